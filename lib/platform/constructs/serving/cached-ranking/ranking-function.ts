import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { IModelEndpoint } from '../../ml/model-endpoint-base';
import type { FeatureFlags } from '../../flags/feature-flags';
import { BundledFunction } from '../../compute/bundled-function';
import type { RankingCache } from './ranking-cache';

export interface RankingFunctionProps {
  /** The design's serving handler: a folder under `lambda/` whose `handler.ts` exports `handler`. */
  readonly handlerFolder: string;
  /** Says what the function serves, e.g. the route. */
  readonly description: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly cache: RankingCache;
  /**
   * Endpoint asked on a miss.
   * @default - none: a miss is answered from the fallback list, and every user is on the single
   *   `champion` variant whose lists the batch loader writes
   */
  readonly modelEndpoint?: IModelEndpoint;
  /** Items scoring below this cosine similarity are dropped, in [-1, 1]. */
  readonly scoreThreshold: number;
  /** Items the model is asked for, and the default `limit`'s ceiling. */
  readonly topK: number;
  readonly timeout: Duration;
  readonly cacheConnectTimeoutMs: number;
  readonly cacheCommandTimeoutMs: number;
  readonly modelTimeoutMs: number;
  readonly modelAnswerTtlSeconds: number;
  /** @default - no reservation (the function shares the account's unreserved pool) */
  readonly reservedConcurrency?: number;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default - the handler folder's name */
  readonly serviceName?: string;
  /** CloudWatch namespace of the function's metrics. */
  readonly metricsNamespace: string;
  /**
   * The design's feature flags, read on requests (the function's VPC needs the `AppConfigData`
   * interface endpoint: it has no other way out).
   * @default - no flags: every request is served with the deployed configuration
   */
  readonly flags?: FeatureFlags;
}

/**
 * What a cached-ranking serving handler counts once for every request it does not answer from the
 * cache; a cache hit counts nothing, so hits are the function's invocations minus these.
 */
export const RANKING_OUTCOME_METRICS = [
  'ServedFromModel',
  'ServedFromFallback',
  'Unavailable',
  'BadRequest',
  'UnexpectedError',
] as const;
export type RankingOutcomeMetric = (typeof RANKING_OUTCOME_METRICS)[number];

/**
 * The serving function of cached ranking: reads the user's precomputed list from the cache, asks the
 * model on a miss, and falls back to the design's fallback list (e.g. popularity).
 */
export class RankingFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly metricsNamespace: string;
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: RankingFunctionProps) {
    super(scope, id);
    this.metricsNamespace = props.metricsNamespace;
    this.serviceName = props.serviceName ?? props.handlerFolder.split('/').pop()!;
    const endpoint = props.modelEndpoint;
    const variants = endpoint?.variants ?? [{ name: 'champion', weight: 1 }];
    const handler = new BundledFunction(this, 'Handler', {
      handlerFolder: props.handlerFolder,
      description: props.description,
      network: { vpc: props.vpc, subnets: props.subnets },
      memorySizeMb: props.memorySizeMb ?? 512,
      timeout: props.timeout,
      reservedConcurrency: props.reservedConcurrency,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        CACHE_HOST: props.cache.endpointAddress,
        CACHE_PORT: props.cache.endpointPort,
        CACHE_CONNECT_TIMEOUT_MS: String(props.cacheConnectTimeoutMs),
        CACHE_COMMAND_TIMEOUT_MS: String(props.cacheCommandTimeoutMs),
        MODEL_ENDPOINT_NAME: endpoint?.endpointName ?? '',
        MODEL_TIMEOUT_MS: String(props.modelTimeoutMs),
        MODEL_ANSWER_TTL_SECONDS: String(props.modelAnswerTtlSeconds),
        MODEL_TOP_K: String(props.topK),
        AB_VARIANTS: JSON.stringify(variants.map(({ name, weight }) => ({ name, weight }))),
        SCORE_THRESHOLD: String(props.scoreThreshold),
        DEFAULT_LIMIT: String(Math.min(10, props.topK)),
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
    this.function = handler.function;
    props.cache.allowFrom(this.function);
    endpoint?.grantInvoke(this.function);
    props.flags?.bindTo(this.function);
  }

  /**
   * A metric the handler emits (a count per period), in the function's namespace with the `service`
   * dimension Powertools gives every metric.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(1),
      ...props,
    });
  }

  /**
   * Share of requests answered from the cache, as metric math: invocations minus the requests that
   * counted an outcome, over invocations. Empty where there were no invocations.
   */
  public metricCacheHitRatio(props: { readonly period?: Duration } = {}): cloudwatch.MathExpression {
    const period = props.period ?? Duration.minutes(5);
    const usingMetrics: Record<string, cloudwatch.IMetric> = {
      invocations: this.function.metricInvocations({ period, statistic: cloudwatch.Stats.SUM }),
    };
    RANKING_OUTCOME_METRICS.forEach((name, i) => {
      usingMetrics[`outcome${i}`] = this.metric(name, { period });
    });
    // An outcome nobody counted in a period has no datapoint: FILL makes it zero, not a gap.
    const outcomes = RANKING_OUTCOME_METRICS.map((_, i) => `FILL(outcome${i}, 0)`).join(' + ');
    return new cloudwatch.MathExpression({
      expression: `IF(invocations > 0, (invocations - (${outcomes})) / invocations)`,
      usingMetrics,
      label: 'Cache hit ratio',
      period,
    });
  }
}
