import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  MonitoringFacade,
  SnsAlarmActionStrategy,
  type CustomMetricGroup,
  type CustomThreshold,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import type { VariantAlarms } from './endpoint-alarms';
import type { IModelEndpoint } from '../ml/model-endpoint-base';
import type { RankingCache } from '../serving/cached-ranking/ranking-cache';
import type { AbVariant } from '../../config/design';
import { BREACHING_PERIODS, EVALUATION_PERIOD, type AlarmThresholds } from './alarm-thresholds';
import { ctrMetrics, type ClickThroughSource } from './ctr-metrics';
import { DeploymentDashboard } from './deployment-dashboard';

/**
 * Cache usage alarms fire at this share of a configured bound: writes beyond the storage bound
 * fail and requests beyond the ECPU bound are throttled
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Scaling.html, "Scaling ElastiCache
 * Serverless"), so the alarm must come while there is room left.
 */
export const CACHE_USAGE_ALARM_SHARE = 0.8;

export interface SystemMonitoringProps {
  /** Every alarm notifies this topic. */
  readonly alarmTopic: sns.ITopic;
  /** Prefix of the alarms' names, e.g. the monitoring stack's name. */
  readonly alarmNamePrefix: string;
  readonly thresholds: AlarmThresholds;
}

/** A function on the request path whose concurrency was sized (capacity.functionConcurrency). */
export interface MonitoredFunction {
  /** Title on the dashboard and in alarm names (letters and digits). */
  readonly name: string;
  readonly function: lambda.IFunction;
  /** Whether it serves API requests: its errors and throttles count against the error budget. */
  readonly servesRequests: boolean;
  /** Whether its concurrency was sized to the design's peak and should alarm near that size. */
  readonly sizedConcurrency?: boolean;
}

/**
 * A deployment's dashboard and alarms, on cdk-monitoring-constructs' facade: one dashboard, every
 * alarm with the alarm topic as its action and its threshold from `AlarmThresholds`. Stacks add
 * what the design has with the `monitorXxx()` methods; `addAlarm` takes alarms built elsewhere (the
 * endpoint's guardrail alarms, a drift alarm of Model Monitor) onto the dashboard and the topic.
 */
export class SystemMonitoring extends Construct {
  public readonly facade: MonitoringFacade;
  public readonly thresholds: AlarmThresholds;
  private readonly topic: sns.ITopic;
  private readonly externalAlarms: cloudwatch.IAlarm[] = [];
  private readonly externalAlarmTopicActions = new Set<string>();

  constructor(scope: Construct, id: string, props: SystemMonitoringProps) {
    super(scope, id);
    this.thresholds = props.thresholds;
    this.topic = props.alarmTopic;
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.alarmNamePrefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic }),
      },
      metricFactoryDefaults: {},
      dashboardFactory: new DeploymentDashboard(this, 'Dashboard'),
    });
  }

  /** The dashboard every widget goes to. */
  public get dashboard(): cloudwatch.Dashboard {
    return this.facade.dashboardFactory!.getDashboard('Detail')!;
  }

  /** Alarms the facade created, and those added with `addAlarm`. */
  public get alarms(): readonly cloudwatch.IAlarm[] {
    return [...this.facade.createdAlarms().map((a) => a.alarm), ...this.externalAlarms];
  }

  /**
   * The API: requests, 4xx, 5xx and latency (p50, p99) on the dashboard; alarms on p99 latency above
   * the requirement and on a 5xx share that burns the error budget too fast.
   */
  public monitorApi(api: apigateway.RestApi): this {
    const stage = api.deploymentStage;
    this.facade.monitorApiGateway({
      api,
      apiStage: stage.stageName,
      humanReadableName: 'Serving API',
      alarmFriendlyName: 'Api',
      addLatencyP99Alarm: {
        Critical: this.sustained({ maxLatency: this.thresholds.apiP99Latency }),
      },
    });
    const period = EVALUATION_PERIOD;
    const faults = stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM });
    const requests = stage.metricCount({ period, statistic: cloudwatch.Stats.SUM });
    this.errorShare('Api', 'API 5xx share', { faults, requests });
    return this;
  }

  /**
   * A function: invocations, errors, throttles, duration and concurrency on the dashboard; for a
   * serving function an alarm on its share of failed and throttled invocations, and, where its
   * concurrency was sized, one near that size.
   */
  public monitorFunction(monitored: MonitoredFunction): this {
    const fn = monitored.function;
    this.facade.monitorLambdaFunction({
      lambdaFunction: fn,
      humanReadableName: monitored.name,
      alarmFriendlyName: monitored.name,
      addConcurrentExecutionsCountAlarm: monitored.sizedConcurrency
        ? { Warning: this.sustained({ maxRunningTasks: this.thresholds.maxServingConcurrency }) }
        : undefined,
    });
    const period = EVALUATION_PERIOD;
    const errors = fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM });
    const throttles = fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM });
    const invocations = fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM });
    if (monitored.servesRequests) {
      // Throttled invocations are not in Invocations; a caller sees them as failures all the same.
      const failed = new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(throttles, 0)',
        usingMetrics: { errors, throttles },
        period,
      });
      const attempts = new cloudwatch.MathExpression({
        expression: 'FILL(invocations, 0) + FILL(throttles, 0)',
        usingMetrics: { invocations, throttles },
        period,
      });
      this.errorShare(monitored.name, `${monitored.name} failed or throttled share`, {
        faults: failed,
        requests: attempts,
      });
    } else {
      // A task (a loader, a pipeline step): any failure is worth a look, nothing is a budget.
      this.customAlarms(monitored.name, `${monitored.name} errors`, errors, {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
        // No invocations, no errors.
        treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    return this;
  }

  /**
   * A model endpoint, per variant: invocations, model latency (p50, p99), 5xx, and on instance
   * hosting CPU and GPU utilisation; its alarms (`endpointAlarms`, which also roll deployments back)
   * on the dashboard and the topic.
   */
  public monitorEndpoint(
    endpoint: IModelEndpoint,
    alarms: readonly VariantAlarms[],
    options: {
      /** Instance hosting, which publishes CPU and GPU utilisation; serverless has no instances. */
      readonly instances: boolean;
      /** Whether the alarms already notify the alarm topic (see `addAlarm`). */
      readonly notifiesTopic?: boolean;
    },
  ): this {
    const groups: CustomMetricGroup[] = [
      {
        title: 'Invocations',
        metrics: endpoint.variants.map((v) =>
          endpoint.metricInvocations({ variantName: v.name, label: v.name }),
        ),
      },
      {
        title: 'Model latency p50 / p99 (microseconds)',
        metrics: endpoint.variants.flatMap((v) => [
          endpoint.metricModelLatency({
            variantName: v.name,
            statistic: cloudwatch.Stats.p(50),
            label: `${v.name} p50`,
          }),
          endpoint.metricModelLatency({
            variantName: v.name,
            statistic: cloudwatch.Stats.p(99),
            label: `${v.name} p99`,
          }),
        ]),
        horizontalAnnotations: [
          {
            value: this.thresholds.endpoint.p99ModelLatency.toMilliseconds() * 1000,
            label: 'p99 alarm',
          },
        ],
      },
      {
        title: '5xx',
        metrics: endpoint.variants.map((v) =>
          endpoint.metricInvocation5XXErrors({ variantName: v.name, label: v.name }),
        ),
      },
    ];
    if (options.instances) {
      groups.push({
        title: 'CPU / GPU utilisation (% of one core or GPU)',
        metrics: endpoint.variants.flatMap((v) => [
          endpoint.metricCpuUtilization({ variantName: v.name, label: `${v.name} CPU` }),
          endpoint.metricGpuUtilization({ variantName: v.name, label: `${v.name} GPU` }),
        ]),
      });
    }
    this.facade.monitorCustom({
      humanReadableName: 'Model endpoint',
      alarmFriendlyName: 'Endpoint',
      metricGroups: groups,
    });
    for (const variant of alarms) {
      this.addAlarm(variant.errors, { notifiesTopic: options.notifiesTopic });
      this.addAlarm(variant.latency, { notifiesTopic: options.notifiesTopic });
    }
    return this;
  }

  /** A state machine (training pipeline, ETL): executions on the dashboard, an alarm on any failure. */
  public monitorStateMachine(name: string, stateMachine: sfn.IStateMachine): this {
    const anyFailure = {
      maxErrorCount: 0,
      datapointsToAlarm: 1,
      evaluationPeriods: 1,
      // No execution, no failure: a pipeline that did not run is the freshness alarm's concern.
      treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.facade.monitorStepFunction({
      stateMachine,
      humanReadableName: name,
      alarmFriendlyName: name,
      addFailedExecutionCountAlarm: { Critical: anyFailure },
    });
    return this;
  }

  /**
   * Event ingestion: the delivery stream's records and throttling on the dashboard, and the raw
   * bucket's freshness: an alarm when the oldest record not yet in S3 is older than twice the
   * buffering interval, which Firehose never waits longer than when delivery succeeds (AWS
   * recommends alarming on DataFreshness past the buffering limit:
   * https://docs.aws.amazon.com/firehose/latest/dev/firehose-cloudwatch-metrics-best-practices.html).
   */
  public monitorIngestion(stream: firehose.IDeliveryStream, bufferingInterval: Duration): this {
    this.facade.monitorKinesisFirehose({
      deliveryStreamName: stream.deliveryStreamName,
      humanReadableName: 'Event ingestion',
      alarmFriendlyName: 'Ingestion',
    });
    const freshness = stream.metric('DeliveryToS3.DataFreshness', {
      statistic: cloudwatch.Stats.MAXIMUM,
      period: EVALUATION_PERIOD,
      label: 'Oldest undelivered record (s)',
    });
    const delivered = stream.metric('DeliveryToS3.Records', {
      statistic: cloudwatch.Stats.SUM,
      period: EVALUATION_PERIOD,
      label: 'Records delivered to the raw bucket',
    });
    this.facade.monitorCustom({
      humanReadableName: 'Raw bucket freshness',
      alarmFriendlyName: 'RawFreshness',
      metricGroups: [
        {
          title: 'Age of the oldest record not yet in S3 (s)',
          metrics: [
            {
              metric: freshness,
              alarmFriendlyName: 'RawFreshness',
              addAlarm: {
                Critical: {
                  threshold: 2 * bufferingInterval.toSeconds(),
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  datapointsToAlarm: BREACHING_PERIODS,
                  evaluationPeriods: BREACHING_PERIODS,
                  // Firehose reports freshness only while it holds records: none held, none stale.
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                },
              },
            },
          ],
        },
        { title: 'Delivered records', metrics: [delivered] },
      ],
    });
    return this;
  }

  /**
   * The cached-ranking cache: the serving function's cache hit ratio, with an alarm when misses send
   * the endpoint more than it is sized for; the serverless cache's own metrics; and its storage and
   * ECPU use against the bounds configured on it, with alarms where a bound is set.
   */
  public monitorRankingCache(cache: RankingCache, hitRatio: cloudwatch.MathExpression): this {
    // The cache's own helpers: cdk-monitoring-constructs 10.2.0 queries serverless caches by
    // CacheClusterId, which they do not publish (they publish clusterId,
    // https://github.com/cdklabs/cdk-monitoring-constructs/issues/750), so its graphs would be empty.
    this.facade.monitorCustom({
      humanReadableName: 'Recommendation cache (ElastiCache Serverless)',
      alarmFriendlyName: 'CacheUsage',
      metricGroups: [
        { title: 'Data stored', metrics: [cache.metricBytesUsed()] },
        { title: 'ECPUs', metrics: [cache.metricProcessingUnits({ statistic: cloudwatch.Stats.SUM })] },
        {
          title: 'Read and write latency',
          metrics: [
            cache.metric('SuccessfulReadRequestLatency', { statistic: cloudwatch.Stats.p(99) }),
            cache.metric('SuccessfulWriteRequestLatency', { statistic: cloudwatch.Stats.p(99) }),
          ],
        },
        {
          title: 'Throttled commands',
          metrics: [cache.metric('ThrottledCmds', { statistic: cloudwatch.Stats.SUM })],
        },
      ],
    });
    this.customAlarms('CacheHitRatio', 'Cache hit ratio (serving function)', hitRatio, {
      threshold: this.thresholds.minCacheHitRatio,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      datapointsToAlarm: BREACHING_PERIODS,
      evaluationPeriods: BREACHING_PERIODS,
      // No requests, no ratio: an idle API is not a cold cache.
      treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const period = EVALUATION_PERIOD;
    if (cache.maxDataStorageGb !== undefined) {
      // The bound is in GB; counted as 10^9 bytes, which alarms no later than 2^30 would.
      const storageShare = new cloudwatch.MathExpression({
        expression: `bytes / ${cache.maxDataStorageGb * 1e9}`,
        usingMetrics: { bytes: cache.metricBytesUsed({ period }) },
        label: 'Storage used / bound',
        period,
      });
      this.customAlarms('CacheStorage', 'Cache storage used / its bound', storageShare, {
        threshold: CACHE_USAGE_ALARM_SHARE,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        datapointsToAlarm: BREACHING_PERIODS,
        evaluationPeriods: BREACHING_PERIODS,
        // The cache reports its size every minute while it exists; a gap is not growth.
        treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    if (cache.maxEcpuPerSecond !== undefined) {
      const ecpuShare = new cloudwatch.MathExpression({
        expression: `ecpu / ${period.toSeconds()} / ${cache.maxEcpuPerSecond}`,
        usingMetrics: { ecpu: cache.metricProcessingUnits({ period }) },
        label: 'ECPU per second / bound',
        period,
      });
      this.customAlarms('CacheEcpu', 'Cache ECPU per second / its bound', ecpuShare, {
        threshold: CACHE_USAGE_ALARM_SHARE,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        datapointsToAlarm: BREACHING_PERIODS,
        evaluationPeriods: BREACHING_PERIODS,
        // No commands, no processing units used.
        treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    return this;
  }

  /**
   * Freshness of what serving uses (a recommendation set, a model): `successes` counts its
   * refreshes; an alarm when none happened for `thresholds.maxStalenessHours`. Missing data is
   * breaching on purpose: a refresh that never runs publishes nothing at all.
   */
  public monitorFreshness(name: string, title: string, successes: cloudwatch.IMetric): this {
    const hours = this.thresholds.maxStalenessHours;
    this.customAlarms(name, title, successes, {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // Hourly periods, every one of them without a refresh: no refresh within the window.
      period: Duration.hours(1),
      datapointsToAlarm: hours,
      evaluationPeriods: hours,
      treatMissingDataOverride: cloudwatch.TreatMissingData.BREACHING,
    });
    return this;
  }

  /** Click-through rate per A/B variant (Clicks / Impressions from `source`), on the dashboard. */
  public monitorCtr(source: ClickThroughSource, variants: readonly AbVariant[]): this {
    this.facade.monitorCustom({
      humanReadableName: 'Click-through rate per variant',
      alarmFriendlyName: 'Ctr',
      metricGroups: [
        { title: 'CTR', metrics: variants.map((v) => ctrMetrics(source, v.name).ctr) },
        {
          title: 'Impressions and clicks',
          metrics: variants.flatMap((v) => {
            const m = ctrMetrics(source, v.name);
            return [m.impressions, m.clicks];
          }),
        },
      ],
    });
    return this;
  }

  /** Metrics shown without an alarm (e.g. a design's fallback answers). */
  public addGraphs(title: string, metricGroups: CustomMetricGroup[]): this {
    this.facade.monitorCustom({ humanReadableName: title, alarmFriendlyName: title, metricGroups });
    return this;
  }

  /**
   * An alarm built elsewhere (the endpoint's guardrail alarms, a Model Monitor drift alarm): shown
   * on the dashboard and, unless it notifies the topic already, given the topic as its action.
   */
  public addAlarm(alarm: cloudwatch.Alarm, options: { readonly notifiesTopic?: boolean } = {}): this {
    if (!options.notifiesTopic && !this.externalAlarmTopicActions.has(alarm.node.addr)) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    }
    this.externalAlarmTopicActions.add(alarm.node.addr);
    this.externalAlarms.push(alarm);
    if (this.externalAlarms.length === 1) {
      this.facade.addLargeHeader('Alarms defined with their resources');
    }
    this.facade.addWidget(new cloudwatch.AlarmWidget({ alarm, title: alarm.node.path, width: 8 }));
    return this;
  }

  private errorShare(
    name: string,
    title: string,
    counts: { readonly faults: cloudwatch.IMetric; readonly requests: cloudwatch.IMetric },
  ): void {
    const share = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, faults / requests)',
      usingMetrics: { faults: counts.faults, requests: counts.requests },
      label: title,
      period: EVALUATION_PERIOD,
    });
    this.customAlarms(`${name}ErrorShare`, title, share, {
      threshold: this.thresholds.maxErrorShare,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      datapointsToAlarm: BREACHING_PERIODS,
      evaluationPeriods: BREACHING_PERIODS,
      // No requests, no errors: an idle API spends no budget.
      treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private customAlarms(
    name: string,
    title: string,
    metric: cloudwatch.Metric | cloudwatch.MathExpression | cloudwatch.IMetric,
    threshold: CustomThreshold,
  ): void {
    this.facade.monitorCustom({
      humanReadableName: title,
      alarmFriendlyName: name,
      metricGroups: [
        {
          title,
          metrics: [
            {
              metric: metric as cloudwatch.Metric | cloudwatch.MathExpression,
              alarmFriendlyName: name,
              addAlarm: { Critical: threshold },
            },
          ],
        },
      ],
    });
  }

  /** Three 5-minute periods in a row (see BREACHING_PERIODS), missing data left as not breaching. */
  private sustained<T extends object>(
    threshold: T,
  ): T & {
    readonly period: Duration;
    readonly datapointsToAlarm: number;
    readonly evaluationPeriods: number;
    readonly treatMissingDataOverride: cloudwatch.TreatMissingData;
  } {
    return {
      ...threshold,
      period: EVALUATION_PERIOD,
      datapointsToAlarm: BREACHING_PERIODS,
      evaluationPeriods: BREACHING_PERIODS,
      // No requests, no latency or concurrency to judge.
      treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
  }
}

/** Invocations of `fn` that did not fail, per hour: e.g. the runs of a loader that completed. */
export function successfulInvocations(
  fn: lambda.IFunction,
  period: Duration = Duration.hours(1),
): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(invocations, 0) - FILL(errors, 0)',
    usingMetrics: {
      invocations: fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM }),
      errors: fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
    },
    label: 'Successful runs',
    period,
  });
}
