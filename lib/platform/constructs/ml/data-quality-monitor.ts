import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { acknowledgeActionsWithoutResourceTypes } from '../../nag/acknowledge-actions-without-resource-types';
import { uniqueRetainedName } from '../data/stack-unique-suffix';
import { ARTIFACT_PREFIXES } from './artifact-layout';
import type { SageMakerInstanceType } from './endpoint-hosting';
import { modelMonitorAnalyzerImageUri } from './model-monitor-image';
import type { ModelEndpoint } from './model-endpoint';

/** How often the schedule analyses the traffic captured since its last run. */
export type MonitoringCadence = 'hourly' | 'daily';

/**
 * Model Monitor's schedule expressions: "cron(0 * ? * * *)" hourly, "cron(0 [00-23] ? * * *)"
 * daily (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html).
 * Daily runs at 02:00 UTC, after the night's retraining window has usually rolled a model out.
 */
const SCHEDULE_EXPRESSIONS: Record<MonitoringCadence, string> = {
  hourly: 'cron(0 * ? * * *)',
  daily: 'cron(0 2 ? * * *)',
};

/**
 * "The MaxRuntimeInSeconds cannot exceed the frequency of the job. For data quality and model
 * explainability, this can be up to 3600 seconds for an hourly schedule"
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MonitoringStoppingCondition.html).
 */
const MAX_RUNTIME: Record<MonitoringCadence, Duration> = {
  hourly: Duration.hours(1),
  daily: Duration.hours(6),
};

/**
 * Where the built-in analyzer publishes per-feature metrics of a real-time endpoint, and their
 * dimensions: namespace `aws/sagemaker/Endpoints/data-metrics`
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html), dimensions
 * `Endpoint` and `MonitoringSchedule`
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html). Its metric
 * `feature_baseline_drift_<feature>` is the feature's distance from the baseline's distribution
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html).
 */
export const DATA_METRICS_NAMESPACE = 'aws/sagemaker/Endpoints/data-metrics';
const DRIFT_METRIC_PREFIX = 'feature_baseline_drift_';

/**
 * The distance above which the analyzer reports a feature as drifted: the `comparison_threshold`
 * of the constraints it suggests, 0.1 unless edited
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html).
 */
export const DEFAULT_DRIFT_THRESHOLD = 0.1;

/** Paths inside the monitoring container; fixed by the processing job contract. */
const LOCAL_ENDPOINT_INPUT = '/opt/ml/processing/input/endpoint';
const LOCAL_OUTPUT = '/opt/ml/processing/output';

export interface DataQualityMonitorProps {
  /** The endpoint whose captured requests are analysed; it must capture them (instance hosting). */
  readonly endpoint: ModelEndpoint;
  /** The artefacts bucket: captured data, the baseline, the reports. */
  readonly artifacts: s3.IBucket;
  /** The artefacts key: captured data and reports are encrypted with it, and so are the job's volumes. */
  readonly key: kms.IKey;
  /**
   * The design's record preprocessor, a standalone Python file defining
   * `preprocess_handler(inference_record)`, which turns a captured request into flat rows; the
   * analyzer reads nothing else from JSON
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html).
   */
  readonly recordPreprocessor: string;
  /** The features the preprocessor emits, which the drift metrics are named after. */
  readonly features: readonly string[];
  readonly cadence: MonitoringCadence;
  /** @default 'ml.m5.xlarge', the Model Monitor documentation's instance */
  readonly instanceType?: SageMakerInstanceType;
  /** @default 20 GiB */
  readonly volumeSizeGb?: number;
  /**
   * Where the drift alarm (`driftAlarm`) notifies.
   * @default - no action: the alarm only changes state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * Data-quality monitoring of a real-time endpoint with SageMaker Model Monitor: a schedule that
 * runs the prebuilt analyzer on the requests the endpoint captured, compares their per-feature
 * statistics with the baseline the training pipeline writes from the promoted model's training
 * snapshot, and publishes per-feature drift to CloudWatch, where `metricDrift()` reads it.
 *
 * Model Monitor "is no longer open to new customers" (existing ones keep it; no new features):
 * https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-availability-change.html.
 * An account that never used it cannot create the schedule, which is why it is a profile setting.
 *
 * The job definition is inline in the schedule rather than an `AWS::SageMaker::DataQualityJobDefinition`:
 * every property of the latter requires replacement, and it exposes no name attribute for the
 * schedule to reference, so a named one could not be replaced and a generated one could not be named.
 */
export class DataQualityMonitor extends Construct {
  public readonly schedule: sagemaker.CfnMonitoringSchedule;
  /** The schedule's name: the `MonitoringSchedule` dimension of its metrics. */
  public readonly scheduleName: string;
  /** The role the monitoring jobs run as: reads captured data and the baseline, writes reports. */
  public readonly role: iam.Role;
  public readonly features: readonly string[];
  public readonly cadence: MonitoringCadence;
  /** Where the pipeline's baselining job writes, and every monitoring run reads, the baseline. */
  public readonly baseline: {
    readonly prefix: string;
    readonly constraintsKey: string;
    readonly statisticsKey: string;
  };
  /** The analyzer image in this construct's stack (the baselining job resolves it in its own). */
  public readonly imageUri: string;
  /** Any monitored feature drifted past `DEFAULT_DRIFT_THRESHOLD` in a monitoring run. */
  public readonly driftAlarm: cloudwatch.Alarm;
  private readonly endpointName: string;

  constructor(scope: Construct, id: string, props: DataQualityMonitorProps) {
    super(scope, id);
    validateProps(props);
    const { artifacts, key, endpoint, cadence } = props;
    this.features = props.features;
    this.cadence = cadence;
    this.imageUri = modelMonitorAnalyzerImageUri(this);
    const prefix = ARTIFACT_PREFIXES.monitoringBaseline;
    // The file names the analyzer gives its baseline output
    // (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-create-baseline.html).
    this.baseline = {
      prefix,
      constraintsKey: `${prefix}constraints.json`,
      statisticsKey: `${prefix}statistics.json`,
    };

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Data-quality monitoring jobs: read captured requests and the baseline, write reports',
    });
    artifacts.grantRead(this.role, `${ARTIFACT_PREFIXES.dataCapture}*`);
    artifacts.grantRead(this.role, `${prefix}*`);
    artifacts.grantPut(this.role, `${ARTIFACT_PREFIXES.monitoringReports}*`);
    key.grantEncryptDecrypt(this.role);
    const preprocessor = new s3assets.Asset(this, 'RecordPreprocessor', { path: props.recordPreprocessor });
    // This one object, not the whole assets bucket.
    preprocessor.bucket.grantRead(this.role, preprocessor.s3ObjectKey);
    grantProcessingJobLogs(this, this.role);
    grantDataMetrics(this.role);

    this.scheduleName = uniqueRetainedName(this, 63);
    this.endpointName = endpoint.endpointName;
    const maxRuntime = MAX_RUNTIME[cadence];
    this.schedule = new sagemaker.CfnMonitoringSchedule(this, 'Schedule', {
      monitoringScheduleName: this.scheduleName,
      endpointName: endpoint.endpointName,
      monitoringScheduleConfig: {
        monitoringType: 'DataQuality',
        scheduleConfig: { scheduleExpression: SCHEDULE_EXPRESSIONS[cadence] },
        monitoringJobDefinition: {
          roleArn: this.role.roleArn,
          monitoringAppSpecification: {
            imageUri: this.imageUri,
            recordPreprocessorSourceUri: preprocessor.s3ObjectUrl,
          },
          baselineConfig: {
            constraintsResource: { s3Uri: artifacts.s3UrlForObject(this.baseline.constraintsKey) },
            statisticsResource: { s3Uri: artifacts.s3UrlForObject(this.baseline.statisticsKey) },
          },
          // Per-feature metrics are what the drift alarm watches; the analyzer publishes them when
          // this is Enabled (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html).
          environment: { publish_cloudwatch_metrics: 'Enabled' },
          monitoringInputs: [
            {
              endpointInput: {
                endpointName: endpoint.endpointName,
                localPath: LOCAL_ENDPOINT_INPUT,
                s3InputMode: 'File',
                s3DataDistributionType: 'FullyReplicated',
              },
            },
          ],
          monitoringOutputConfig: {
            kmsKeyId: key.keyArn,
            monitoringOutputs: [
              {
                s3Output: {
                  localPath: LOCAL_OUTPUT,
                  s3Uri: artifacts.s3UrlForObject(ARTIFACT_PREFIXES.monitoringReports),
                  s3UploadMode: 'EndOfJob',
                },
              },
            ],
          },
          monitoringResources: {
            clusterConfig: {
              instanceCount: 1,
              instanceType: props.instanceType ?? 'ml.m5.xlarge',
              volumeSizeInGb: props.volumeSizeGb ?? 20,
              volumeKmsKeyId: key.keyArn,
            },
          },
          // Like the endpoint's models, the analyzer gets no network: SageMaker stages its inputs
          // and outputs, and publishes the metrics it writes to a file
          // (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html).
          // The endpoint runs outside the VPC, so the jobs need none either.
          networkConfig: { enableNetworkIsolation: true },
          stoppingCondition: { maxRuntimeInSeconds: maxRuntime.toSeconds() },
        },
      },
    });
    // The jobs must be able to act as soon as the schedule starts one; and the endpoint must exist
    // (with data capture) before a schedule can name it.
    this.schedule.node.addDependency(this.role);
    this.schedule.node.addDependency(endpoint.endpoint);

    this.driftAlarm = this.createDriftAlarm(this, 'DriftAlarm');
    if (props.alarmAction) this.driftAlarm.addAlarmAction(props.alarmAction);
  }

  /**
   * The distance of `feature`'s distribution in the analysed traffic from the baseline's, one value
   * per monitoring run; without `feature`, the largest distance among the monitored features.
   * @default Maximum over the schedule's period (1 hour or 1 day)
   */
  public metricDrift(feature: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricDrift(feature?: undefined, props?: cloudwatch.MetricOptions): cloudwatch.MathExpression;
  public metricDrift(
    feature?: string,
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric | cloudwatch.MathExpression {
    const period = props.period ?? (this.cadence === 'hourly' ? Duration.hours(1) : Duration.days(1));
    if (feature !== undefined) {
      if (!this.features.includes(feature)) {
        throw new Error(`metricDrift: "${feature}" is not monitored; monitored: ${this.features.join(', ')}`);
      }
      return new cloudwatch.Metric({
        namespace: DATA_METRICS_NAMESPACE,
        metricName: `${DRIFT_METRIC_PREFIX}${feature}`,
        dimensionsMap: { Endpoint: this.endpointName, MonitoringSchedule: this.scheduleName },
        statistic: cloudwatch.Stats.MAXIMUM,
        ...props,
        period,
      });
    }
    const usingMetrics = Object.fromEntries(
      this.features.map((name, index) => [`drift${index}`, this.metricDrift(name, { ...props, period })]),
    );
    return new cloudwatch.MathExpression({
      expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`,
      usingMetrics,
      label: props.label ?? 'Largest feature drift from the baseline',
      period,
    });
  }

  /**
   * An alarm when any monitored feature (or `feature`) drifts past `threshold` in a monitoring
   * run. No run, or a run without traffic, publishes nothing: missing data is not a breach.
   */
  public createDriftAlarm(
    scope: Construct,
    id: string,
    options: { readonly feature?: string; readonly threshold?: number } = {},
  ): cloudwatch.Alarm {
    const threshold = options.threshold ?? DEFAULT_DRIFT_THRESHOLD;
    const metric = options.feature === undefined ? this.metricDrift() : this.metricDrift(options.feature);
    return metric.createAlarm(scope, id, {
      alarmDescription: `Endpoint traffic drifted from the training baseline: ${
        options.feature ?? 'a monitored feature'
      } beyond distance ${threshold}`,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * Processing jobs log to the account-wide `/aws/sagemaker/ProcessingJobs` group, one stream per
 * job, named by SageMaker for monitoring runs.
 */
export function grantProcessingJobLogs(scope: Construct, role: iam.IRole): void {
  const logGroupArn = Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: '/aws/sagemaker/ProcessingJobs',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:DescribeLogStreams',
      ],
      // A log group's ARN ends in `:*` in policies for every action but tagging
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
      resources: [`${logGroupArn}:*`],
    }),
  );
}

/** The analyzer's per-feature metrics, to its namespace only. */
function grantDataMetrics(role: iam.IRole): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': DATA_METRICS_NAMESPACE } },
    }),
  );
  acknowledgeActionsWithoutResourceTypes(role, {
    actions: ['cloudwatch:PutMetricData'],
    purpose:
      "The analyzer's per-feature metrics, limited to Model Monitor's data-metrics namespace by a condition",
  });
}

function validateProps(props: DataQualityMonitorProps): void {
  const problems: string[] = [];
  if (!props.endpoint.dataCaptureConfig) {
    problems.push(
      'endpoint: captures no data; Model Monitor analyses captured requests, and serverless endpoints ' +
        'cannot capture (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions)',
    );
  }
  // The drift alarm is a math expression over one metric per feature, and an alarm may use at most
  // 10 metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metric_Math_Alarm.html).
  if (props.features.length === 0 || props.features.length > 10) problems.push('features: 1 to 10');
  for (const feature of props.features) {
    if (!/^[A-Za-z0-9_.-]+$/.test(feature)) problems.push(`features: "${feature}" is not a plain field name`);
  }
  if (!props.recordPreprocessor.endsWith('.py')) problems.push('recordPreprocessor: a Python file (.py)');
  if (props.volumeSizeGb !== undefined && props.volumeSizeGb < 1) problems.push('volumeSizeGb: at least 1');
  if (problems.length > 0)
    throw new Error(`Invalid DataQualityMonitor props:\n  - ${problems.join('\n  - ')}`);
}
