import { Match, type Template } from 'aws-cdk-lib/assertions';
import { recommenderApp } from './app';

/** `Fn::Select [0, Fn::Split ['-', Fn::Select [2, Fn::Split ['/', AWS::StackId]]]]`: new for every stack. */
const STACK_SUFFIX = {
  'Fn::Select': [
    0,
    { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
  ],
};

interface CfnResource {
  Properties: Record<string, unknown>;
  DependsOn?: string[];
}

function only(template: Template, type: string): { id: string; resource: CfnResource } {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return { id: found[0][0], resource: found[0][1] as CfnResource };
}

describe.each([
  ['sandbox', 7, 'Delete'],
  ['production', 90, 'Retain'],
] as const)('DataStack (%s): the database log and retained names', (profile, retentionDays, deletion) => {
  const { data } = recommenderApp(profile);

  test('the exported PostgreSQL log group is the stack’s, created before the cluster, with the profile retention', () => {
    // GIVEN the cluster and its identifier
    const cluster = only(data, 'AWS::RDS::DBCluster');
    const identifier = cluster.resource.Properties.DBClusterIdentifier;
    expect(cluster.resource.Properties.EnableCloudwatchLogsExports).toEqual(['postgresql']);
    // THEN the group RDS writes to (/aws/rds/cluster/<identifier>/postgresql) is a stack resource
    const groups = data.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/rds/cluster/', identifier, '/postgresql']] } },
    });
    const [[groupId, group]] = Object.entries(groups);
    expect(group).toMatchObject({
      Properties: { RetentionInDays: retentionDays },
      DeletionPolicy: deletion,
      UpdateReplacePolicy: deletion,
    });
    // AND the cluster waits for it, so RDS never creates its own, unexpiring group first
    expect(cluster.resource.DependsOn).toEqual(expect.arrayContaining([groupId]));
  });

  test('the cluster identifier, and so its retained log group, end in the stack’s unique suffix', () => {
    data.hasResourceProperties('AWS::RDS::DBCluster', {
      DBClusterIdentifier: {
        'Fn::Join': ['-', [Match.stringLikeRegexp('^[a-z][a-z0-9-]{0,53}$'), STACK_SUFFIX]],
      },
    });
  });

  test('the feature group name ends in the stack’s unique suffix, and writers may put records to that group only', () => {
    // GIVEN the feature group, retained in production under a name it requires
    // THEN a redeploy after destroy cannot collide with the retained group
    data.hasResource('AWS::SageMaker::FeatureGroup', {
      Properties: Match.objectLike({
        FeatureGroupName: {
          'Fn::Join': ['-', [Match.stringLikeRegexp('^[a-z][a-z0-9-]{0,54}$'), STACK_SUFFIX]],
        },
      }),
      DeletionPolicy: deletion,
    });
    // AND the ingest grant (in the ETL stack) names the same expression
    const { etl } = recommenderApp(profile);
    const statements = Object.values(etl.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>,
    );
    const putRecord = statements.filter((s) => s.Action === 'sagemaker:PutRecord');
    expect(putRecord).toHaveLength(1);
    expect(JSON.stringify(putRecord[0].Resource)).toContain('feature-group/');
    expect(JSON.stringify(putRecord[0].Resource)).not.toContain('*');
  });
});

describe('DataStack: the offline feature store may set the object ACL it writes with', () => {
  const { data } = recommenderApp('sandbox');

  test('s3:PutObjectAcl on the offline prefix only, and the bucket keeps ACLs disabled', () => {
    // THEN the offline store role may set the ACL, on feature-store/* of the artefacts bucket only
    data.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^UserFeaturesOfflineStoreRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['s3:PutObjectAcl']),
            Resource: {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ArtifactsBucket'), 'Arn'] }, '/feature-store/*'],
              ],
            },
          }),
        ]),
      },
    });
    // AND the artefacts bucket leaves S3's default, BucketOwnerEnforced (ACLs disabled), so the ACL
    // the offline store sends cannot widen access
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({
        ServerSideEncryptionConfiguration: [Match.objectLike({ BucketKeyEnabled: true })],
      }),
      OwnershipControls: Match.absent(),
    });
  });
});

describe('DataStack: the database users authenticate with IAM; the bootstrap creates them through the Data API', () => {
  test.each(['sandbox', 'production'] as const)(
    'the Data API is on and IAM authentication too (%s)',
    (profile) => {
      recommenderApp(profile).data.hasResourceProperties('AWS::RDS::DBCluster', {
        EnableHttpEndpoint: true,
        EnableIAMDatabaseAuthentication: true,
      });
    },
  );

  test('a custom resource creates the database user once the writer is up, from outside the VPC', () => {
    const { data } = recommenderApp('sandbox');
    const writer = Object.keys(data.findResources('AWS::RDS::DBInstance'))[0];
    // THEN it names this cluster, its master secret, the database and the user, and waits for the writer
    data.hasResource('Custom::DatabaseUser', {
      Properties: Match.objectLike({
        ClusterArn: {
          'Fn::Join': [
            '',
            Match.arrayWith([':cluster:', { Ref: Match.stringLikeRegexp('^AccountsCluster') }]),
          ],
        },
        SecretArn: { Ref: Match.stringLikeRegexp('^AccountsClusterSecretAttachment') },
        Database: 'recommender',
        User: 'etl',
      }),
      DependsOn: Match.arrayWith([writer]),
    });
    data.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Creates the IAM-authenticated database user through the RDS Data API',
      VpcConfig: Match.absent(),
    });
  });

  test('the bootstrap function may run statements on this cluster and read its master secret, nothing more', () => {
    const { data } = recommenderApp('sandbox');
    // GIVEN the bootstrap function's policy
    const [policy] = Object.values(
      data.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^AccountsBootstrapFunctionServiceRole') }] },
      }),
    );
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>;
    // THEN it holds the Data API call and the secret read only
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'rds-data:ExecuteStatement',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    data.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AccountsBootstrapFunctionServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'rds-data:ExecuteStatement',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([':cluster:', { Ref: Match.stringLikeRegexp('^AccountsCluster') }]),
              ],
            },
          },
          Match.objectLike({ Resource: { Ref: Match.stringLikeRegexp('^AccountsClusterSecretAttachment') } }),
        ]),
      },
    });
    // AND the key lets it decrypt that secret only through Secrets Manager (the Data API's call)
    data.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Principal: {
              AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AccountsBootstrapFunctionServiceRole'), 'Arn'] },
            },
            Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});
