import type { CfnResourceJson } from '../synthesized-app';
import {
  findReferences,
  type FoundReference,
  type ResourceAddress,
  type TemplatesByStack,
} from './intrinsics';
import { parseJoinedJson } from './joined-json';
import type { ConnectionKind } from './model';

/** One resource reaching another, as a template says it. */
export interface Connection {
  readonly from: ResourceAddress;
  readonly to: ResourceAddress;
  readonly kind: ConnectionKind;
}

/**
 * Properties that place a resource in the network (subnets, security groups, the VPC) rather than
 * name what it talks to: never a connection. Security group rules are read on their own.
 */
const PLACEMENT_KEY = /subnet|securitygroup|^vpcid$|^vpcconfig$|routetable/i;

const IDENTITY_POLICIES = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']);
/** Resource policies and where their document is: a principal they name uses the resource. */
const RESOURCE_POLICIES: Readonly<Record<string, string>> = {
  'AWS::S3::BucketPolicy': 'PolicyDocument',
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::SQS::QueuePolicy': 'PolicyDocument',
  'AWS::KMS::Key': 'KeyPolicy',
  'AWS::SecretsManager::ResourcePolicy': 'ResourcePolicy',
};

interface Source {
  readonly self: ResourceAddress;
  readonly resource: CfnResourceJson;
  readonly templates: TemplatesByStack;
}

/**
 * What one resource of a template connects to, each with its kind: IAM statements (the role's
 * owner reaches the statement's resources; a resource policy's principals reach its resource),
 * function environment variables, API integrations and invoke permissions, state machine tasks,
 * schedules and event sources, security group rules, log subscriptions, delivery destinations,
 * alarm actions, and monitoring. Network placement and tags are not connections.
 */
export function connectionsOf(
  self: ResourceAddress,
  resource: CfnResourceJson,
  templates: TemplatesByStack,
): Connection[] {
  const source: Source = { self, resource, templates };
  const type = resource.Type;
  const props = resource.Properties ?? {};
  if (IDENTITY_POLICIES.has(type)) {
    const owners = [
      ...refs(source, props.Roles),
      ...refs(source, props.Users),
      ...refs(source, props.Groups),
    ];
    return statementResources(source, props.PolicyDocument).flatMap((target) =>
      (owners.length > 0 ? owners : [self]).map((owner) => connection(owner, target, 'IAM')),
    );
  }
  if (type === 'AWS::IAM::Role') {
    const inline = (props.Policies ?? []) as { PolicyDocument?: unknown }[];
    return inline.flatMap((policy) =>
      statementResources(source, policy.PolicyDocument).map((target) => connection(self, target, 'IAM')),
    );
  }
  if (Object.hasOwn(RESOURCE_POLICIES, type)) {
    const principals = statements(props[RESOURCE_POLICIES[type]]).flatMap((statement) => [
      ...refs(source, statement.Principal),
      ...refs(source, statement.Condition),
    ]);
    return [
      ...principals.map((principal) => connection(principal, self, 'IAM')),
      ...(type === 'AWS::KMS::Key' ? [] : generic(source, omit(props, [RESOURCE_POLICIES[type]]))),
    ];
  }
  switch (type) {
    case 'AWS::Lambda::Permission': {
      const callers = refs(source, props.SourceArn);
      return refs(source, props.FunctionName).flatMap((callee) =>
        (callers.length > 0 ? callers : [self]).map((caller) => connection(caller, callee, 'invokes')),
      );
    }
    case 'AWS::Lambda::EventSourceMapping':
      return refs(source, props.EventSourceArn).flatMap((from) =>
        refs(source, props.FunctionName).map((to) => connection(from, to, 'event source')),
      );
    case 'AWS::Lambda::Function':
      return [
        ...kindOf(source, props.Environment, 'env'),
        ...generic(source, omit(props, ['Environment', 'Role', 'LoggingConfig', 'Code'])),
      ];
    case 'AWS::ApiGateway::Method':
      return kindOf(source, props.Integration, 'invokes');
    case 'AWS::StepFunctions::StateMachine':
      return generic(
        source,
        {
          Definition: props.Definition,
          DefinitionString: parseJoinedJson(props.DefinitionString),
          DefinitionSubstitutions: props.DefinitionSubstitutions,
        },
        'task',
      );
    case 'AWS::Scheduler::Schedule':
      return kindOf(source, (props.Target as Record<string, unknown> | undefined)?.Arn, 'schedule');
    case 'AWS::Events::Rule':
      return ((props.Targets ?? []) as { Arn?: unknown }[]).flatMap((target) =>
        kindOf(source, target.Arn, props.ScheduleExpression ? 'schedule' : 'event source'),
      );
    case 'AWS::EC2::SecurityGroupIngress':
      return refs(source, props.SourceSecurityGroupId).flatMap((from) =>
        refs(source, props.GroupId).map((to) => connection(from, to, 'network')),
      );
    case 'AWS::EC2::SecurityGroupEgress':
      return refs(source, props.GroupId).flatMap((from) =>
        refs(source, props.DestinationSecurityGroupId).map((to) => connection(from, to, 'network')),
      );
    case 'AWS::EC2::SecurityGroup': {
      const rules = (key: string) => (props[key] ?? []) as Record<string, unknown>[];
      return [
        ...rules('SecurityGroupIngress').flatMap((rule) =>
          refs(source, rule.SourceSecurityGroupId).map((from) => connection(from, self, 'network')),
        ),
        ...rules('SecurityGroupEgress').flatMap((rule) =>
          refs(source, rule.DestinationSecurityGroupId).map((to) => connection(self, to, 'network')),
        ),
      ];
    }
    case 'AWS::Logs::SubscriptionFilter':
      return refs(source, props.LogGroupName).flatMap((from) =>
        refs(source, props.DestinationArn).map((to) => connection(from, to, 'log subscription')),
      );
    case 'AWS::KinesisFirehose::DeliveryStream':
      return generic(source, omit(props, ['DeliveryStreamEncryptionConfigurationInput']), 'delivers');
    case 'AWS::CloudWatch::Alarm':
      return [
        ...kindOf(source, props.AlarmActions, 'alarm action'),
        ...kindOf(source, props.OKActions, 'alarm action'),
        ...kindOf(source, props.InsufficientDataActions, 'alarm action'),
        ...generic(source, omit(props, ['AlarmActions', 'OKActions', 'InsufficientDataActions']), 'monitors'),
      ];
    case 'AWS::Logs::MetricFilter':
    case 'AWS::CloudWatch::Dashboard':
      return generic(source, props, 'monitors');
    default:
      return generic(source, props);
  }
}

function connection(from: ResourceAddress, to: ResourceAddress, kind: ConnectionKind): Connection {
  return { from, to, kind };
}

function refs(source: Source, value: unknown): ResourceAddress[] {
  return findReferences(value, source.self.stack, source.templates).map((found) => found.target);
}

/** Every reference in `value` as a connection of `kind` from the resource. */
function kindOf(source: Source, value: unknown, kind: ConnectionKind): Connection[] {
  return refs(source, value).map((target) => connection(source.self, target, kind));
}

/** References anywhere in the properties, placement and tags left out. */
function generic(
  source: Source,
  props: Readonly<Record<string, unknown>>,
  kind: ConnectionKind = 'reference',
): Connection[] {
  const placed = (found: FoundReference) =>
    found.path.some((key) => key === 'Tags' || PLACEMENT_KEY.test(String(key)));
  return findReferences(props, source.self.stack, source.templates)
    .filter((found) => !placed(found))
    .map((found) => connection(source.self, found.target, kind));
}

function omit(props: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).filter(([key]) => !keys.includes(key)));
}

function statements(document: unknown): Record<string, unknown>[] {
  const list = (document as { Statement?: unknown } | undefined)?.Statement;
  return (Array.isArray(list) ? list : list ? [list] : []) as Record<string, unknown>[];
}

/** The resources an identity policy's statements grant access to. */
function statementResources(source: Source, document: unknown): ResourceAddress[] {
  return statements(document).flatMap((statement) => [
    ...refs(source, statement.Resource),
    ...refs(source, statement.NotResource),
  ]);
}
