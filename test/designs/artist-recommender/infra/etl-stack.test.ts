import { Match, type Template } from 'aws-cdk-lib/assertions';
import { recommenderApp } from './app';
import { ETL_STATES } from '../support/etl-states';

interface State {
  Type: string;
  Next?: string;
  QueryLanguage?: string;
  Output?: string;
  ItemReader?: { Resource: string; Parameters: Record<string, string> };
  ItemProcessor?: { ProcessorConfig: { Mode: string }; StartAt: string; States: Record<string, State> };
  ResultWriter?: { Parameters: Record<string, string> };
  MaxConcurrency?: number;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Parameters?: Record<string, unknown>;
}

const DATABASE_FUNCTIONS = [
  'Applies the versioned SQL schema',
  'Validates, normalises and loads one raw object',
  'Rebuilds the feature tables in SQL',
  'Exports the k-anonymous training snapshot',
  'Upserts an accounts CSV',
];

function definition(template: Template): { StartAt: string; States: Record<string, State> } {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '<ref>')).join(''));
}

describe.each(['sandbox', 'production'] as const)('EtlStack (%s)', (profile) => {
  const { etl, config } = recommenderApp(profile);
  const def = definition(etl);

  test('plans the day, migrates, transforms in a distributed map, builds features, exports the snapshot, ingests features', () => {
    const order: string[] = [];
    for (let name: string | undefined = def.StartAt; name; name = def.States[name].Next) order.push(name);
    // 5M daily users x 20 events x 30 days: the requirements put the event side on the lake.
    expect(order).toEqual(ETL_STATES.lake);
  });

  test("the plan defaults to yesterday and derives the raw prefix and the temporal split's cutoff", () => {
    const plan = def.States.PlanRun;
    expect(plan.QueryLanguage).toBe('JSONata');
    expect(plan.Output).toMatch(/\$states\.context\.Execution\.StartTime\) - 86400000/);
    expect(plan.Output).toMatch(/'raw\/' & \$replace\(\$day, '-', '\/'\) & '\/'/);
    expect(plan.Output).toContain(
      `'cutoff': $fromMillis($end - ${config.design.data.validationDays * 86_400_000})`,
    );
  });

  test('the distributed map lists the day prefix, fans out one child per object and writes results to S3', () => {
    const map = def.States.TransformDay;
    expect(map.ItemReader).toEqual({
      Resource: 'arn:<ref>:states:::s3:listObjectsV2',
      Parameters: { Bucket: '<ref>', 'Prefix.$': '$.prefix' },
    });
    expect(map.ItemProcessor?.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.MaxConcurrency).toBe(profile === 'production' ? 40 : 5);
    expect(map.ResultWriter?.Parameters.Prefix).toBe('etl-results/');
    const child = map.ItemProcessor!.States[map.ItemProcessor!.StartAt];
    expect(child.Retry?.some((r) => r.ErrorEquals.includes('DatabaseUnavailableError'))).toBe(true);
  });

  test('every step retries throttling and routes failures to one handler, so no snapshot follows a failure', () => {
    // Every state but the Pass states that plan the run (PlanRun, PlanLakeTables, PlanLakeQueries).
    for (const name of ETL_STATES.lake.filter((state) => !state.startsWith('Plan'))) {
      expect({ name, catch: def.States[name].Catch }).toEqual({
        name,
        catch: [expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' })],
      });
      expect(def.States[name].Retry?.some((r) => r.ErrorEquals.includes('ThrottlingException'))).toBe(true);
    }
  });

  test('the snapshot step exports with the design k and the planned cutoff', () => {
    expect(def.States.ExportSnapshot.Parameters).toMatchObject({
      'cutoff.$': '$.cutoff',
      'validationEnd.$': '$.asOf',
      k: config.design.data.kAnonymity,
    });
  });

  test('database functions run in the VPC and connect as the IAM database user, with TLS', () => {
    for (const description of DATABASE_FUNCTIONS) {
      etl.hasResourceProperties('AWS::Lambda::Function', {
        Description: description,
        VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
        Environment: {
          Variables: Match.objectLike({
            DB_IAM_AUTH: 'true',
            DB_HOST: {
              'Fn::GetStackOutput': Match.objectLike({
                OutputName: Match.stringLikeRegexp('EndpointAddress'),
              }),
            },
            DB_PORT: '5432',
            DB_NAME: 'recommender',
            DB_USER: 'etl',
            DB_SSL: 'true',
            NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
            DB_SECRET_ARN: Match.absent(),
          }),
        },
      });
    }
    etl.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Writes the snapshot user features into the Feature Store',
      VpcConfig: Match.absent(),
    });
  });

  test('database functions may connect as that user of this cluster, and never read a secret', () => {
    // GIVEN every statement the ETL stack's policies hold
    const statements = Object.values(etl.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    // THEN no function calls Secrets Manager at run time
    expect(statements.flatMap((s) => s.Action).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    // AND each database function may rds-db:connect on dbuser:<cluster resource id>/etl, nothing wider
    const connect = statements.filter((s) => s.Action === 'rds-db:connect');
    expect(connect).toHaveLength(DATABASE_FUNCTIONS.length);
    for (const statement of connect) {
      expect(statement.Resource).toEqual({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':rds-db:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':dbuser:',
            {
              'Fn::GetStackOutput': expect.objectContaining({
                OutputName: expect.stringMatching(
                  /^PublishOutputFnGetAttAccountsCluster\w*DBClusterResourceId/,
                ),
              }),
            },
            '/etl',
          ],
        ],
      });
    }
  });

  test('database clients are admitted on the database port by rules beside their own security groups', () => {
    const ingress = Object.values(etl.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress).toHaveLength(5);
    for (const rule of ingress) expect(rule.Properties).toMatchObject({ FromPort: 5432, ToPort: 5432 });
  });

  test('the schedule runs daily, enabled per profile', () => {
    etl.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 1 * * ? *)',
      State: config.profile.data.etlScheduleEnabled ? 'ENABLED' : 'DISABLED',
    });
  });
});

describe('DataStack: events, accounts and features', () => {
  test.each(['sandbox', 'production'] as const)(
    'Firehose writes gzip JSON lines by hour, encrypted (%s)',
    (profile) => {
      const { data, config } = recommenderApp(profile);
      data.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
        DeliveryStreamEncryptionConfigurationInput: {
          KeyType: 'CUSTOMER_MANAGED_CMK',
          KeyARN: Match.anyValue(),
        },
        ExtendedS3DestinationConfiguration: Match.objectLike({
          CompressionFormat: 'GZIP',
          Prefix: 'raw/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/',
          ErrorOutputPrefix:
            'firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/',
          BufferingHints: {
            IntervalInSeconds: config.profile.data.ingestBufferSeconds,
            SizeInMBs: config.profile.data.ingestBufferMb,
          },
          EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
        }),
      });
    },
  );

  test('the sandbox database scales to zero and pauses, unprotected and without rotation', () => {
    const { data } = recommenderApp('sandbox');
    data.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({
        Engine: 'aurora-postgresql',
        EngineVersion: '16.6',
        StorageEncrypted: true,
        ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 2, SecondsUntilAutoPause: 600 },
        DeletionProtection: false,
        EnableIAMDatabaseAuthentication: true,
      }),
      DeletionPolicy: 'Delete',
    });
    data.resourceCountIs('AWS::RDS::DBInstance', 1);
    data.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

  test('the production database is multi-AZ, protected, snapshotted on deletion and rotates its credentials', () => {
    const { data } = recommenderApp('production');
    data.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({
        ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
        DeletionProtection: true,
        BackupRetentionPeriod: 14,
      }),
      DeletionPolicy: 'Snapshot',
    });
    data.resourceCountIs('AWS::RDS::DBInstance', 2);
    data.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  test('the database admits nobody by itself and sits in isolated subnets', () => {
    const { data } = recommenderApp('sandbox');
    data.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Account database: admits only its clients',
      SecurityGroupIngress: Match.absent(),
    });
    data.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: [Match.anyValue(), Match.anyValue()],
    });
  });

  test('the feature group keeps user features online and offline, encrypted with the data key', () => {
    const { data } = recommenderApp('sandbox');
    data.hasResourceProperties('AWS::SageMaker::FeatureGroup', {
      RecordIdentifierFeatureName: 'user_id',
      EventTimeFeatureName: 'event_time',
      FeatureDefinitions: Match.arrayWith([
        { FeatureName: 'age_group', FeatureType: 'String' },
        { FeatureName: 'interaction_count', FeatureType: 'Integral' },
      ]),
      OnlineStoreConfig: { EnableOnlineStore: true, SecurityConfig: { KmsKeyId: Match.anyValue() } },
      OfflineStoreConfig: Match.objectLike({
        S3StorageConfig: { S3Uri: Match.anyValue(), KmsKeyId: Match.anyValue() },
      }),
    });
    const features = JSON.stringify(data.findResources('AWS::SageMaker::FeatureGroup'));
    expect(features).not.toMatch(/date_of_birth|dob|city/);
    // AND the stack outputs its generated name for the scripts and operators that read it
    data.hasOutput('UserFeaturesGroupName', { Value: { Ref: Match.stringLikeRegexp('^UserFeatures') } });
  });
});
