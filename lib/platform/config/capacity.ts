import { Duration } from 'aws-cdk-lib';
import type { Profile } from './profile';
import type { Design } from './design';
import type { Requirements } from './requirements';

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
  /** Set for instance-hosted endpoints: the scaling range and target per variant. */
  readonly endpointScaling?: {
    readonly minInstances: number;
    readonly maxInstances: number;
    readonly targetInvocationsPerInstancePerMinute: number;
  };
}

/** Admit 25% above the sized peak before throttling. */
const THROTTLE_HEADROOM = 1.25;
/** Concurrency for twice the p99 latency: misses and cold starts hold executions longer. */
const CONCURRENCY_LATENCY_FACTOR = 2;
const API_GATEWAY_MAX_TIMEOUT_MS = 29_000;

/** Scale out when instances pass 70% of what they can serve. */
export const ENDPOINT_TARGET_UTILISATION = 0.7;

export function deriveCapacity(
  requirements: Requirements,
  profile: Profile,
  design?: Pick<Design, 'abVariants'>,
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
  const endpoint = profile.endpoint;
  const endpointScaling =
    endpoint.kind === 'instances'
      ? {
          minInstances: endpoint.minInstances,
          // Any one variant may have to take all model traffic while the other is rolled back.
          maxInstances: Math.max(
            endpoint.minInstances,
            Math.ceil(
              modelRequestsPerSecond / (endpoint.instanceRequestsPerSecond * ENDPOINT_TARGET_UTILISATION),
            ),
          ),
          targetInvocationsPerInstancePerMinute: Math.round(
            endpoint.instanceRequestsPerSecond * 60 * ENDPOINT_TARGET_UTILISATION,
          ),
        }
      : undefined;
  return {
    modelRequestsPerSecond,
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
