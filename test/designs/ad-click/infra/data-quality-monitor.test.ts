import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ARTIFACT_PREFIXES } from '../../../../lib/platform/constructs/ml/artifact-layout';
import {
  DATA_METRICS_NAMESPACE,
  DataQualityMonitor,
  type DataQualityMonitorProps,
} from '../../../../lib/platform/constructs/ml/data-quality-monitor';
import { DlcImage } from '../../../../lib/platform/constructs/ml/dlc-image';
import { ModelEndpoint, type EndpointHosting } from '../../../../lib/platform/constructs/ml/model-endpoint';
import {
  MODEL_MONITOR_ANALYZER_ACCOUNTS,
  modelMonitorAnalyzerImageUri,
} from '../../../../lib/platform/constructs/ml/model-monitor-image';

const PREPROCESSOR = path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'sagemaker',
  'ad_click',
  'monitoring_record.py',
);
const FEATURES = ['device', 'hour_of_day'];
const INSTANCES: EndpointHosting = {
  kind: 'instances',
  instanceType: 'ml.g5.xlarge',
  minInstances: 2,
  maxInstances: 4,
  targetInvocationsPerInstancePerMinute: 600,
};
const SERVERLESS: EndpointHosting = { kind: 'serverless', memorySizeMb: 2048, maxConcurrency: 5 };

function monitorIn(
  stack: Stack,
  overrides: Partial<DataQualityMonitorProps> & { hosting?: EndpointHosting } = {},
): { monitor: DataQualityMonitor; bucket: s3.Bucket; key: kms.Key; endpoint: ModelEndpoint } {
  const key = new kms.Key(stack, 'Key');
  const bucket = new s3.Bucket(stack, 'Artifacts', { encryptionKey: key });
  const endpoint = new ModelEndpoint(stack, 'Endpoint', {
    image: DlcImage.pytorchInference('gpu'),
    initialModelData: { bucket, key: 'models/bootstrap/model.tar.gz' },
    variants: [{ name: 'champion', weight: 1 }],
    hosting: overrides.hosting ?? INSTANCES,
    dataCapture: { bucket, prefix: ARTIFACT_PREFIXES.dataCapture, key },
  });
  const monitor = new DataQualityMonitor(stack, 'Monitor', {
    endpoint,
    artifacts: bucket,
    key,
    recordPreprocessor: PREPROCESSOR,
    features: FEATURES,
    cadence: 'hourly',
    ...overrides,
  });
  return { monitor, bucket, key, endpoint };
}

describe('DataQualityMonitor schedule', () => {
  const stack = new Stack();
  const { monitor, bucket, key, endpoint } = monitorIn(stack);
  const template = Template.fromStack(stack);
  const resolve = (value: unknown) => stack.resolve(value);
  const objectUri = (objectKey: string) => resolve(bucket.s3UrlForObject(objectKey));

  test('runs hourly on the endpoint it watches, with the baseline where the pipeline writes it', () => {
    template.hasResourceProperties('AWS::SageMaker::MonitoringSchedule', {
      MonitoringScheduleName: resolve(monitor.scheduleName),
      EndpointName: resolve(endpoint.endpointName),
      MonitoringScheduleConfig: {
        MonitoringType: 'DataQuality',
        ScheduleConfig: { ScheduleExpression: 'cron(0 * ? * * *)' },
        MonitoringJobDefinition: Match.objectLike({
          RoleArn: resolve(monitor.role.roleArn),
          BaselineConfig: {
            ConstraintsResource: {
              S3Uri: objectUri(`${ARTIFACT_PREFIXES.monitoringBaseline}constraints.json`),
            },
            StatisticsResource: {
              S3Uri: objectUri(`${ARTIFACT_PREFIXES.monitoringBaseline}statistics.json`),
            },
          },
          MonitoringInputs: [
            { EndpointInput: Match.objectLike({ EndpointName: resolve(endpoint.endpointName) }) },
          ],
          MonitoringOutputConfig: {
            KmsKeyId: resolve(key.keyArn),
            MonitoringOutputs: [
              {
                S3Output: Match.objectLike({
                  S3Uri: objectUri(ARTIFACT_PREFIXES.monitoringReports),
                  S3UploadMode: 'EndOfJob',
                }),
              },
            ],
          },
          MonitoringResources: {
            ClusterConfig: {
              InstanceCount: 1,
              InstanceType: 'ml.m5.xlarge',
              VolumeSizeInGB: 20,
              VolumeKmsKeyId: resolve(key.keyArn),
            },
          },
          NetworkConfig: { EnableNetworkIsolation: true },
          // An hourly data-quality job may run up to the hour.
          StoppingCondition: { MaxRuntimeInSeconds: 3600 },
          Environment: { publish_cloudwatch_metrics: 'Enabled' },
          MonitoringAppSpecification: {
            ImageUri: Match.anyValue(),
            RecordPreprocessorSourceUri: Match.objectLike({ 'Fn::Sub': Match.stringLikeRegexp('\\.py$') }),
          },
        }),
      },
    });
    expect(monitor.baseline.constraintsKey).toBe('monitoring/baseline/constraints.json');
    expect(monitor.baseline.statisticsKey).toBe('monitoring/baseline/statistics.json');
  });

  test('is created after its role and the endpoint', () => {
    const schedule = Object.values(template.findResources('AWS::SageMaker::MonitoringSchedule'))[0];
    expect(schedule.DependsOn).toEqual(expect.arrayContaining([resolve(endpoint.endpoint.logicalId)]));
  });

  test('its role reads captured data and the baseline, writes reports, and nothing else of the bucket', () => {
    const roleId = stack.getLogicalId(monitor.role.node.defaultChild as iam.CfnRole);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
    const statements = Object.values(policies).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
    const actionsOf = (statement: Statement) => [statement.Action].flat();
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    const objectsOfBucket = (filter: (statement: Statement) => boolean) =>
      new Set(
        statements
          .filter(filter)
          .flatMap((statement) => [statement.Resource].flat())
          .map((resource) => JSON.stringify(resource))
          .filter((resource) => resource.includes(bucketId) && resource.includes('/')),
      );
    const objects = (prefix: string) => JSON.stringify(resolve(bucket.arnForObjects(`${prefix}*`)));
    expect(objectsOfBucket((statement) => actionsOf(statement).some((a) => a.startsWith('s3:')))).toEqual(
      new Set([
        objects(ARTIFACT_PREFIXES.dataCapture),
        objects(ARTIFACT_PREFIXES.monitoringBaseline),
        objects(ARTIFACT_PREFIXES.monitoringReports),
      ]),
    );
    expect(objectsOfBucket((statement) => actionsOf(statement).includes('s3:PutObject'))).toEqual(
      new Set([objects(ARTIFACT_PREFIXES.monitoringReports)]),
    );
    // Metrics only to Model Monitor's namespace.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'cloudwatch:PutMetricData',
        Condition: { StringEquals: { 'cloudwatch:namespace': DATA_METRICS_NAMESPACE } },
      }),
    );
  });

  test('metricDrift(feature) is the analyzer metric, dimensioned by endpoint and schedule', () => {
    const metric = monitor.metricDrift('hour_of_day');
    expect(metric.namespace).toBe('aws/sagemaker/Endpoints/data-metrics');
    expect(metric.metricName).toBe('feature_baseline_drift_hour_of_day');
    expect(metric.statistic).toBe('Maximum');
    expect(metric.period.toHours()).toBe(1);
    expect(resolve(metric.dimensions)).toEqual({
      Endpoint: resolve(endpoint.endpointName),
      MonitoringSchedule: resolve(monitor.scheduleName),
    });
    expect(() => monitor.metricDrift('user_id')).toThrow(
      /"user_id" is not monitored; monitored: device, hour_of_day/,
    );
  });

  test('the drift alarm fires on the largest drift of any feature past 0.1, missing data not breaching', () => {
    const expression = monitor.metricDrift();
    expect(expression.expression).toBe('MAX([drift0, drift1])');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0.1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'MAX([drift0, drift1])' }),
        Match.objectLike({
          Id: 'drift1',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'feature_baseline_drift_hour_of_day' }),
            Period: 3600,
          }),
        }),
      ]),
    });
  });
});

describe('DataQualityMonitor options', () => {
  test('daily runs at 02:00 UTC, may run six hours, and alarms notify the given action', () => {
    const stack = new Stack();
    const topic = new sns.Topic(stack, 'Topic');
    const { monitor } = monitorIn(stack, {
      cadence: 'daily',
      alarmAction: new cloudwatchActions.SnsAction(topic),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::MonitoringSchedule', {
      MonitoringScheduleConfig: Match.objectLike({
        ScheduleConfig: { ScheduleExpression: 'cron(0 2 ? * * *)' },
        MonitoringJobDefinition: Match.objectLike({ StoppingCondition: { MaxRuntimeInSeconds: 6 * 3600 } }),
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }],
    });
    expect(monitor.metricDrift('device').period.toDays()).toBe(1);
    const custom = monitor.createDriftAlarm(stack, 'DeviceDrift', { feature: 'device', threshold: 0.3 });
    expect(custom.metric).toBeInstanceOf(cloudwatch.Metric);
  });

  test('refuses a serverless endpoint, which captures nothing, and names every bad prop at once', () => {
    expect(() =>
      monitorIn(new Stack(), {
        hosting: SERVERLESS,
        features: [],
        recordPreprocessor: 'preprocess.sh',
      }),
    ).toThrow(/endpoint: captures no data[\s\S]*features: 1 to 10[\s\S]*recordPreprocessor: a Python file/);
    expect(() => monitorIn(new Stack(), { features: Array.from({ length: 11 }, (_, i) => `f${i}`) })).toThrow(
      /features: 1 to 10/,
    );
  });
});

describe('Model Monitor analyzer image', () => {
  test('a concrete region gets its account from the table, written into the template', () => {
    const stack = new Stack(new App(), 'Concrete', { env: { account: '123456789012', region: 'eu-west-1' } });
    expect(stack.resolve(modelMonitorAnalyzerImageUri(stack))).toEqual({
      'Fn::Join': [
        '',
        ['468650794304.dkr.ecr.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/sagemaker-model-monitor-analyzer'],
      ],
    });
    expect(Template.fromStack(stack).toJSON().Mappings).toBeUndefined();
  });

  test('an environment-agnostic stack looks its region up in one mapping of every region in the table', () => {
    const stack = new Stack();
    modelMonitorAnalyzerImageUri(stack);
    modelMonitorAnalyzerImageUri(stack);
    const mappings = Template.fromStack(stack).toJSON().Mappings;
    expect(Object.keys(mappings)).toEqual(['ModelMonitorAnalyzerAccounts']);
    expect(mappings.ModelMonitorAnalyzerAccounts['us-east-1']).toEqual({ account: '156813124566' });
    expect(Object.keys(mappings.ModelMonitorAnalyzerAccounts).sort()).toEqual(
      Object.keys(MODEL_MONITOR_ANALYZER_ACCOUNTS).sort(),
    );
  });

  test('a region without the image fails the synth, naming it', () => {
    const stack = new Stack(new App(), 'Nowhere', {
      env: { account: '123456789012', region: 'ap-southeast-7' },
    });
    expect(() => modelMonitorAnalyzerImageUri(stack)).toThrow(
      /No SageMaker Model Monitor analyzer image is known in ap-southeast-7/,
    );
  });
});
