import type { Template } from 'aws-cdk-lib/assertions';
import { PROFILE_NAMES } from '../../lib/platform/config/profile';
import { appUnderTest } from './app-under-test';
import { builtForCollection } from './collect';

/**
 * Logical IDs by stack role (`Network`, `Data`, `Serving`...: the last part of the stack id), each
 * mapped to its resource type.
 */
export type PinnedIds = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface DesignPins {
  /** Every stateful resource of every stack of the design, in both profiles. */
  readonly pinned: PinnedIds;
  /** Stateful resources only the sandbox has (the cleanup that runs when it is destroyed). @default - none */
  readonly sandboxOnly?: PinnedIds;
}

/**
 * Resource types whose replacement loses data or history: the VPC with everything in it, keys,
 * buckets, streams, databases, feature groups, endpoints, caches, registries, queues, log groups.
 * Types no design uses yet are listed too, so the first design that adds one must pin it.
 */
export const STATEFUL_TYPES: readonly string[] = [
  'AWS::ApiGateway::Account',
  'AWS::ApiGateway::RestApi',
  'AWS::DynamoDB::GlobalTable',
  'AWS::DynamoDB::Table',
  'AWS::EC2::VPC',
  'AWS::EFS::FileSystem',
  'AWS::Glue::Database',
  'AWS::Glue::Table',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::ElastiCache::ServerlessCache',
  'AWS::Kinesis::Stream',
  'AWS::KinesisFirehose::DeliveryStream',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::RDS::DBCluster',
  'AWS::S3::Bucket',
  'AWS::SageMaker::Endpoint',
  'AWS::SageMaker::FeatureGroup',
  'AWS::SageMaker::ModelPackageGroup',
  'AWS::SQS::Queue',
];

/** The account stack every design shares (lib/platform/stacks/account-stack.ts). */
export const ACCOUNT_PINS: PinnedIds = {
  Account: { ApiGatewayAccount: 'AWS::ApiGateway::Account' },
};

/** The stateful resources of a template: logical ID -> type. */
export function statefulIds(template: Template): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const type of STATEFUL_TYPES) {
    for (const id of Object.keys(template.findResources(type))) ids[id] = type;
  }
  return ids;
}

/**
 * Pins the logical IDs of a design's stateful resources, in both profiles. A stateful resource whose
 * logical ID changes is replaced on the next deploy, with its data; renaming a construct on its path
 * must be a deliberate act that updates the design's table. Every stack of the app is checked: a
 * stack the table does not mention must hold no stateful resource, and a role the table names must
 * exist. Call it from `test/designs/<design>/infra/logical-ids.test.ts`.
 */
export function describeLogicalIds(design: string, { pinned, sandboxOnly = {} }: DesignPins): void {
  describe.each(PROFILE_NAMES)(`logical IDs of the stateful resources of ${design} (%s)`, (profile) => {
    const app = builtForCollection(() => appUnderTest(design, profile));
    if (!app) return;
    const expectedOf = (role: string) => ({
      ...ACCOUNT_PINS[role],
      ...pinned[role],
      ...(profile === 'sandbox' ? sandboxOnly[role] : {}),
    });

    test.each(Object.keys(app.byRole))('%s stack', (role) => {
      expect(statefulIds(app.template(role))).toEqual(expectedOf(role));
    });

    test('the table names only stacks the app has', () => {
      const roles = [...Object.keys(pinned), ...Object.keys(sandboxOnly)];
      expect(roles.filter((role) => !(role in app.byRole))).toEqual([]);
    });
  });
}
