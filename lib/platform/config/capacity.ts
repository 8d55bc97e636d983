import { Duration } from 'aws-cdk-lib';
import { ConfigError } from './config-error';
import type { Design, ModelCode } from './design';
import {
  chooseEndpointHardware,
  ENDPOINT_TARGET_UTILISATION,
  type EndpointHardwareChoice,
} from './endpoint-hardware';
import type { Profile } from './profile';
import type { Requirements } from './requirements';
import type { SageMakerInstanceType } from '../constructs/ml/endpoint-hosting';

export { ENDPOINT_TARGET_UTILISATION } from './endpoint-hardware';

/** Sizes of the deployment, each derived from the design's requirements and the profile. */
export interface Capacity {
  /** Steady-state requests per second the API admits before answering 429. */
  readonly apiRateLimit: number;
  readonly apiBurstLimit: number;
  /** Concurrent executions the recommendation function needs at the sized load. */
  readonly functionConcurrency: number;
  /** Set when the profile reserves that concurrency. */
  readonly reservedConcurrency?: number;
  readonly functionTimeout: Duration;
  readonly cacheConnectTimeoutMs: number;
  readonly cacheCommandTimeoutMs: number;
  /** A real-time request may wait this long for its online features before it goes without them. */
  readonly featureReadTimeoutMs: number;
  /** A request may wait this long for the model before the fallback answers. */
  readonly modelTimeoutMs: number;
  /** How long a model answer stays cached; a new recommendation set replaces it sooner. */
  readonly modelAnswerTtlSeconds: number;
  /** Requests per second reaching the model endpoint at the sized peak: misses plus challenger users. */
  readonly modelRequestsPerSecond: number;
  /**
   * The p99 the model must answer within: the latency target less the serving function's one read
   * (cache or online features), whose timeout is `cacheCommandTimeoutMs`.
   */
  readonly modelLatencyBudgetMs: number;
  /**
   * Set for instance-hosted endpoints: the instance type and fleet chosen from the model's measured
   * cost (`chooseEndpointHardware`), with the candidates it was compared with.
   */
  readonly endpointHardware?: EndpointHardwareChoice;
  /**
   * Set for instance-hosted endpoints: the instance type, the scaling range and target per variant,
   * and the model-server workers each instance runs.
   */
  readonly endpointScaling?: {
    readonly instanceType: SageMakerInstanceType;
    readonly minInstances: number;
    readonly maxInstances: number;
    readonly targetInvocationsPerInstancePerMinute: number;
    readonly workersPerInstance: number;
  };
}

/** Admit 25% above the sized peak before throttling. */
const THROTTLE_HEADROOM = 1.25;
/** Concurrency for twice the p99 latency: misses and cold starts hold executions longer. */
const CONCURRENCY_LATENCY_FACTOR = 2;
const API_GATEWAY_MAX_TIMEOUT_MS = 29_000;

/**
 * The sizes of a deployment of `design` under `profile`. A profile that hosts the endpoint on
 * instances needs the model's measured serving cost (`design.model.serving`): the instance type and
 * the fleet are chosen from it.
 */
export function deriveCapacity(
  requirements: Requirements,
  profile: Profile,
  design?: Pick<Design, 'abVariants'> & { readonly model?: Pick<ModelCode, 'serving'> },
): Capacity {
  const sizedPeak = requirements.peakRequestsPerSecond * profile.loadFraction;
  const apiRateLimit = Math.max(10, Math.ceil(sizedPeak * THROTTLE_HEADROOM));
  const functionConcurrency = Math.max(
    2,
    Math.ceil(apiRateLimit * (requirements.p99LatencyMs / 1000) * CONCURRENCY_LATENCY_FACTOR),
  );
  // A cache round trip inside a VPC takes about a millisecond; a command still unanswered after a
  // quarter of the latency budget will not make the target.
  const cacheCommandTimeoutMs = Math.max(10, Math.round(requirements.p99LatencyMs / 4));
  const cacheConnectTimeoutMs = 1000;
  // An online Feature Store read takes single-digit milliseconds; the same quarter of the budget.
  const featureReadTimeoutMs = cacheCommandTimeoutMs;
  const modelTimeoutMs = requirements.p99LatencyMs * 2;
  // The worst path: connect, pointer + user reads, the model, the fallback read, the write-back.
  const worstCaseMs = cacheConnectTimeoutMs + 4 * cacheCommandTimeoutMs + modelTimeoutMs;
  const totalWeight = (design?.abVariants ?? []).reduce((sum, v) => sum + v.weight, 0);
  const challengerShare = totalWeight > 0 ? 1 - design!.abVariants[0].weight / totalWeight : 0;
  // Challenger users are answered by the endpoint; champion users only on a miss.
  const modelRequestsPerSecond =
    apiRateLimit * (challengerShare + (1 - challengerShare) * requirements.modelRequestShare);
  const modelLatencyBudgetMs = requirements.p99LatencyMs - cacheCommandTimeoutMs;
  const endpoint = profile.endpoint;
  let endpointHardware: EndpointHardwareChoice | undefined;
  if (endpoint.kind === 'instances') {
    const serving = design?.model?.serving;
    if (!serving) {
      throw new ConfigError('capacity', [
        `model.serving: the ${profile.name} profile hosts the endpoint on instances, chosen from the model's measured cost per request; measure it (sagemaker/<package>/serving_cost.py) and record it in the design`,
      ]);
    }
    endpointHardware = chooseEndpointHardware({
      serving,
      modelRequestsPerSecond,
      latencyBudgetMs: modelLatencyBudgetMs,
      modelTimeoutMs,
      minInstances: endpoint.minInstances,
      variants: Math.max(1, design?.abVariants.length ?? 1),
    });
  }
  // Any one variant may have to take all model traffic while the other is rolled back: each is
  // sized for all of it.
  const endpointScaling = endpointHardware && {
    instanceType: endpointHardware.instanceType,
    minInstances: endpointHardware.minInstances,
    maxInstances: endpointHardware.maxInstances,
    targetInvocationsPerInstancePerMinute: Math.max(
      1,
      Math.round(endpointHardware.instanceRequestsPerSecond * 60 * ENDPOINT_TARGET_UTILISATION),
    ),
    workersPerInstance: endpointHardware.workersPerInstance,
  };
  return {
    modelRequestsPerSecond,
    modelLatencyBudgetMs,
    endpointHardware,
    endpointScaling,
    apiRateLimit,
    apiBurstLimit: apiRateLimit * 2,
    functionConcurrency,
    reservedConcurrency: profile.reserveConcurrency ? functionConcurrency : undefined,
    functionTimeout: Duration.seconds(
      Math.ceil(Math.min(worstCaseMs * 2, API_GATEWAY_MAX_TIMEOUT_MS) / 1000),
    ),
    cacheConnectTimeoutMs,
    cacheCommandTimeoutMs,
    featureReadTimeoutMs,
    modelTimeoutMs,
    modelAnswerTtlSeconds: Math.min(requirements.retrainEveryHours * 3600, 86_400),
  };
}
