import { Duration } from 'aws-cdk-lib';
import type { Capacity } from '../../config/capacity';
import { ENDPOINT_TARGET_UTILISATION } from '../../config/capacity';
import type { AbVariant } from '../../config/design';
import { errorBudget, type Requirements } from '../../config/requirements';

/**
 * How fast the error budget may burn before someone is paged: 14.4 times the rate at which it
 * accrues spends 2% of a 30-day budget in an hour, the "fast burn" page of the Google SRE workbook
 * (https://sre.google/workbook/alerting-on-slos/, "Multiwindow, multi-burn-rate alerts").
 */
export const FAST_BURN_RATE = 14.4;

/**
 * An error-rate or latency alarm looks at 5-minute periods and fires after three in a row: a
 * 15-minute burn at the fast rate spends 0.5% of the month's budget, and a single slow period (a
 * cold start wave, one bad deploy minute) does not page.
 */
export const EVALUATION_PERIOD = Duration.minutes(5);
export const BREACHING_PERIODS = 3;

/** Concurrency alarms fire at this share of what the function was sized for (capacity.ts). */
export const CONCURRENCY_ALARM_SHARE = 0.8;

/**
 * The longest window a 1-hour alarm can look back: "the total evaluation period can't be longer
 * than seven days" (PutMetricAlarm, Period,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 */
export const MAX_HOURLY_EVALUATION_PERIODS = 7 * 24;

/** What a model endpoint's alarms watch, per variant (`endpoint-alarms.ts`). */
export interface EndpointAlarmThresholds {
  /** Model latency (p99 of 1-minute periods) above which a variant is failing its callers. */
  readonly p99ModelLatency: Duration;
  /** Share of the endpoint's requests that may answer 5xx before a variant is failing. */
  readonly maxErrorShare: number;
  /** Model requests per minute the endpoint takes at the design's peak, all variants together. */
  readonly peakRequestsPerMinute: number;
}

/** Every alarm threshold of a deployment, each derived from the design's requirements. */
export interface AlarmThresholds {
  /** API p99 latency above which the requirement is missed (5-minute periods). */
  readonly apiP99Latency: Duration;
  /** Share of requests (API 5xx, function errors and throttles) that burns the budget too fast. */
  readonly maxErrorShare: number;
  readonly endpoint: EndpointAlarmThresholds;
  /** Concurrent executions of the serving function that mean traffic beyond the sized peak. */
  readonly maxServingConcurrency: number;
  /** Cache hit ratio below which misses exceed what the endpoint is sized to answer. */
  readonly minCacheHitRatio: number;
  /** Hours without a refreshed model or recommendation set before it counts as stale. */
  readonly maxStalenessHours: number;
}

/**
 * The alarm thresholds of a design, from its requirements and the capacity derived from them. Each
 * field says how it follows; change a requirement and the thresholds move with it.
 */
export function alarmThresholds(
  requirements: Requirements,
  capacity: Capacity,
  variants: readonly AbVariant[],
): AlarmThresholds {
  // Rounded to a millionth: 14.4 x (1 - 0.999) is 0.014400000000000013 in floating point.
  const maxErrorShare = Math.min(1, roundTo6(FAST_BURN_RATE * errorBudget(requirements)));
  // The share of requests that reach the model: the challenger's users always, the champion's on a
  // miss (the same arithmetic as capacity.modelRequestsPerSecond).
  const totalWeight = variants.reduce((sum, v) => sum + v.weight, 0);
  const challengerShare = totalWeight > 0 && variants.length > 0 ? 1 - variants[0].weight / totalWeight : 0;
  const expectedModelShare = challengerShare + (1 - challengerShare) * requirements.modelRequestShare;
  return {
    // The requirement itself: p99 of each 5-minute period at or under p99LatencyMs.
    apiP99Latency: Duration.millis(requirements.p99LatencyMs),
    maxErrorShare,
    endpoint: {
      // The serving functions give up on the model after capacity.modelTimeoutMs (twice the API's p99)
      // and answer from the fallback: a model slower than that serves nobody.
      p99ModelLatency: Duration.millis(capacity.modelTimeoutMs),
      maxErrorShare,
      peakRequestsPerMinute: capacity.modelRequestsPerSecond * 60,
    },
    // capacity.functionConcurrency covers the throttled peak at twice the latency target; most of it
    // in use means the peak or the latency is beyond what the design was sized for.
    maxServingConcurrency: Math.floor(capacity.functionConcurrency * CONCURRENCY_ALARM_SHARE),
    // The endpoint scales to take expectedModelShare of the traffic at ENDPOINT_TARGET_UTILISATION of
    // its instances; misses beyond expectedModelShare / ENDPOINT_TARGET_UTILISATION would run it
    // at full load. For a design whose every request reaches the model, no ratio is required.
    minCacheHitRatio: Math.max(0, roundTo6(1 - expectedModelShare / ENDPOINT_TARGET_UTILISATION)),
    // One missed retraining is tolerated (a gate may reject a candidate); two are not. Capped so
    // the hourly alarm stays within CloudWatch's seven-day evaluation range.
    maxStalenessHours: Math.min(2 * requirements.retrainEveryHours, MAX_HOURLY_EVALUATION_PERIODS),
  };
}

function roundTo6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
