import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EventLake, LAKE_PREFIXES } from '../../../../lib/platform/constructs/data/event-lake';

function lakeIn(removalPolicy = RemovalPolicy.DESTROY) {
  const stack = new Stack(new App(), 'Data');
  const key = new kms.Key(stack, 'Key');
  const lake = new EventLake(stack, 'Lake', {
    key,
    removalPolicy,
    bytesScannedCutoffPerQuery: 10_000_000_000,
    workFilesDays: 7,
  });
  const role = new iam.Role(stack, 'Runner', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
  lake.grantQueries(role);
  return { stack, lake, template: Template.fromStack(stack) };
}

describe('EventLake', () => {
  test('the workgroup enforces engine v3, the scan cutoff and results encrypted with the data key', () => {
    const { template } = lakeIn();
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10_000_000_000,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith([`/${LAKE_PREFIXES.results}`])]),
          }),
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
        },
      },
    });
  });

  test('the Glue database follows the removal policy; work files expire, the tables do not', () => {
    const retained = lakeIn(RemovalPolicy.RETAIN).template;
    retained.hasResource('AWS::Glue::Database', { DeletionPolicy: 'Retain' });
    const { template } = lakeIn();
    template.hasResource('AWS::Glue::Database', { DeletionPolicy: 'Delete' });
    const buckets = template.findResources('AWS::S3::Bucket', {
      Properties: { BucketEncryption: Match.objectLike({}), LifecycleConfiguration: Match.anyValue() },
    });
    const rules = Object.values(buckets).flatMap(
      (b) =>
        (b.Properties.LifecycleConfiguration.Rules as { Prefix?: string; ExpirationInDays?: number }[]) ?? [],
    );
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined && r.Prefix).map((r) => r.Prefix);
    expect(expiring).toEqual(
      expect.arrayContaining([LAKE_PREFIXES.staging, LAKE_PREFIXES.outputs, LAKE_PREFIXES.results]),
    );
    expect(expiring).not.toContain(LAKE_PREFIXES.tables);
  });

  test('a query runner may use this workgroup and the tables of this database only', () => {
    const { template } = lakeIn();
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policy.Properties.PolicyDocument.Statement as {
      Action: string[];
      Resource: unknown;
    }[];
    const athena = statements.find((st) => [st.Action].flat().includes('athena:StartQueryExecution'));
    expect(JSON.stringify(athena?.Resource)).toContain(':workgroup/');
    const glue = statements.find((st) => [st.Action].flat().includes('glue:UpdateTable'));
    expect(JSON.stringify(glue?.Resource)).toMatch(/:table\/.*\/\*/);
    expect([glue?.Action].flat()).not.toContain('glue:DeleteDatabase');
  });

  test('refuses a scan cutoff Athena would reject', () => {
    const stack = new Stack(new App(), 'Data');
    expect(
      () =>
        new EventLake(stack, 'Lake', {
          key: new kms.Key(stack, 'Key'),
          bytesScannedCutoffPerQuery: 1_000_000,
          workFilesDays: 7,
        }),
    ).toThrow('at least 10,000,000');
  });
});
