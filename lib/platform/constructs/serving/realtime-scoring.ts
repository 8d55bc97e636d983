import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { IOnlineFeatureGroup } from '../data/feature-group';
import type { IModelEndpoint } from '../ml/model-endpoint-base';
import type { FeatureFlags } from '../flags/feature-flags';
import {
  FEATURE_GROUP_KEY_PATTERN,
  SCORING_ENV,
  SCORING_METRICS,
  featureGroupEnv,
} from '../../../../lambda/platform/realtime/function-contract';
import { VARIANT_NAME_PATTERN } from '../../../../lambda/platform/realtime/variant';
import { Problems } from '../../config/config-error';
import { BundledFunction } from '../compute/bundled-function';

export type ScoringMetricName = (typeof SCORING_METRICS)[keyof typeof SCORING_METRICS];

export interface RealtimeScoringProps {
  /** Folder under `lambda/` of the design's scoring handler, e.g. `<design>/score`. */
  readonly handlerFolder: string;
  /** @default - 'Scores candidates in real time' */
  readonly description?: string;
  /** The endpoint the function invokes, on the user's A/B variant. */
  readonly endpoint: IModelEndpoint;
  /**
   * The feature groups the handler reads, by the key it knows each by (lower camelCase: `user` is
   * passed as `FEATURE_GROUP_USER`). The function may read exactly these and no other.
   */
  readonly featureGroups: Readonly<Record<string, IOnlineFeatureGroup>>;
  /** Deadline of the online feature read, in ms. */
  readonly featureTimeoutMs: number;
  /** Deadline of the endpoint call, in ms; past it the fallback answers. */
  readonly modelTimeoutMs: number;
  /** The score of a candidate when neither the model nor its records give one, in [0, 1]. */
  readonly fallbackPrior: number;
  /** The function's timeout; must exceed the two deadlines together. */
  readonly timeout: Duration;
  /** @default - no reservation (the function shares the account's unreserved pool) */
  readonly reservedConcurrency?: number;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /**
   * The network to run in, for accounts that reach SageMaker through VPC endpoints only.
   * @default - outside any VPC: the runtime APIs are reached over their public endpoints
   */
  readonly network?: { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection };
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Powertools service name, the `service` dimension of every metric. @default 'scoring' */
  readonly serviceName?: string;
  /** CloudWatch namespace of the function's metrics. */
  readonly metricsNamespace: string;
  /**
   * The design's feature flags, read on requests. A function in `network` also needs the
   * `AppConfigData` interface endpoint there.
   * @default - no flags: every request is scored with the deployed configuration
   */
  readonly flags?: FeatureFlags;
}

/** Lambda's memory range, in MB. */
const MIN_MEMORY_MB = 128;
const MAX_MEMORY_MB = 10_240;

/**
 * A real-time scoring function: for each request it reads online Feature Store records within a
 * deadline, invokes the model endpoint on the caller's A/B variant within another, and answers from
 * the records' priors (else a global prior) when the model cannot. This construct wires the design's
 * handler to exactly what it reads and invokes; the handler lives in `lambda/<design>/...`.
 */
export class RealtimeScoring extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly metricsNamespace: string;
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: RealtimeScoringProps) {
    super(scope, id);
    validate(props);
    this.metricsNamespace = props.metricsNamespace;
    this.serviceName = props.serviceName ?? 'scoring';
    const { endpoint } = props;

    const featureGroupEnvironment = Object.fromEntries(
      Object.entries(props.featureGroups).map(([key, group]) => [
        featureGroupEnv(key),
        group.featureGroupName,
      ]),
    );
    const handler = new BundledFunction(this, 'Handler', {
      handlerFolder: props.handlerFolder,
      description: props.description ?? 'Scores candidates in real time',
      network: props.network,
      memorySizeMb: props.memorySizeMb ?? 512,
      timeout: props.timeout,
      reservedConcurrency: props.reservedConcurrency,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        [SCORING_ENV.endpointName]: endpoint.endpointName,
        [SCORING_ENV.variants]: JSON.stringify(
          endpoint.variants.map(({ name, weight }) => ({ name, weight })),
        ),
        [SCORING_ENV.featureTimeoutMs]: String(props.featureTimeoutMs),
        [SCORING_ENV.modelTimeoutMs]: String(props.modelTimeoutMs),
        [SCORING_ENV.fallbackPrior]: String(props.fallbackPrior),
        ...featureGroupEnvironment,
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
    this.function = handler.function;

    // Exactly the endpoint and the groups, through their own grants.
    endpoint.grantInvoke(this.function);
    for (const group of Object.values(props.featureGroups)) group.grantReadOnline(this.function);
    props.flags?.bindTo(this.function);
  }

  /** A metric the handler emits (a count per period), with the function's namespace and service. */
  public metric(metricName: ScoringMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Requests answered by the fallback instead of the model. */
  public metricServedFromFallback(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(SCORING_METRICS.servedFromFallback, props);
  }

  /** Requests the handler could not score: a defect, answered with a 500. */
  public metricUnexpectedErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(SCORING_METRICS.unexpectedError, props);
  }
}

function validate(props: RealtimeScoringProps): void {
  const problems = new Problems();
  if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(props.handlerFolder)) {
    problems.add(
      'handlerFolder',
      `must be a folder under lambda/ such as "<design>/score", got ${JSON.stringify(props.handlerFolder)}`,
    );
  }
  problems.checkNumber('featureTimeoutMs', props.featureTimeoutMs, 1, 60_000, true);
  problems.checkNumber('modelTimeoutMs', props.modelTimeoutMs, 1, 60_000, true);
  const timeoutMs = props.timeout.toMilliseconds();
  const deadlines = props.featureTimeoutMs + props.modelTimeoutMs;
  if (Number.isFinite(deadlines) && deadlines >= timeoutMs) {
    problems.add(
      'timeout',
      `must exceed featureTimeoutMs + modelTimeoutMs (${deadlines} ms), or the function times out before its fallback answers; got ${timeoutMs} ms`,
    );
  }
  problems.checkNumber('fallbackPrior', props.fallbackPrior, 0, 1);
  if (props.reservedConcurrency !== undefined) {
    problems.checkNumber('reservedConcurrency', props.reservedConcurrency, 1, 100_000, true);
  }
  if (props.memorySizeMb !== undefined) {
    problems.checkNumber('memorySizeMb', props.memorySizeMb, MIN_MEMORY_MB, MAX_MEMORY_MB, true);
  }
  if (!props.metricsNamespace) problems.add('metricsNamespace', 'is required');

  const keys = Object.keys(props.featureGroups);
  if (keys.length === 0) problems.add('featureGroups', 'must name at least one feature group');
  for (const key of keys) {
    if (!FEATURE_GROUP_KEY_PATTERN.test(key)) {
      problems.add(`featureGroups.${key}`, `the key must match ${FEATURE_GROUP_KEY_PATTERN}`);
    }
  }
  const names = Object.values(props.featureGroups).map((g) => g.featureGroupName);
  if (new Set(names).size !== names.length)
    problems.add('featureGroups', 'names the same feature group twice');

  const variants = props.endpoint.variants;
  if (variants.length === 0) problems.add('endpoint.variants', 'must hold at least one variant');
  for (const [i, variant] of variants.entries()) {
    if (!VARIANT_NAME_PATTERN.test(variant.name)) {
      problems.add(
        `endpoint.variants[${i}].name`,
        `must match ${VARIANT_NAME_PATTERN}, got ${JSON.stringify(variant.name)}`,
      );
    }
    problems.checkNumber(`endpoint.variants[${i}].weight`, variant.weight, 0, 1e6);
  }
  if (new Set(variants.map((v) => v.name)).size !== variants.length) {
    problems.add('endpoint.variants', 'names a variant twice');
  }
  if (variants.length > 0 && !variants.some((v) => v.weight > 0)) {
    problems.add('endpoint.variants', 'must give at least one variant a positive weight');
  }
  problems.throwIfAny('RealtimeScoring props');
}
