import { Problems } from './config-error';

/**
 * Step 1 of the framework, "define the problem", as numbers. Every capacity of the deployment is
 * derived from these (see `capacity.ts`), so a design states its load once.
 */
export interface Requirements {
  /** Users active on a typical day. */
  readonly dailyActiveUsers: number;
  /** Requests one active user makes per day, on average. */
  readonly requestsPerUserPerDay: number;
  /** Requests per second at the daily peak; must be at least the daily average. */
  readonly peakRequestsPerSecond: number;
  /** Latency the API must meet for 99% of requests, in milliseconds. */
  readonly p99LatencyMs: number;
  /** Hours between two training runs. */
  readonly retrainEveryHours: number;
  /**
   * Share of the champion's requests the model endpoint answers, in [0, 1]: for cached ranking, the
   * requests whose user has no precomputed list (new users, expired answers); 1 for real-time scoring.
   * The challenger's users always reach the endpoint.
   */
  readonly modelRequestShare: number;
  /**
   * Share of API requests over a 30-day window that must succeed (not answer 5xx), in [0.9, 0.99999]:
   * the availability objective. One minus it is the error budget every error-rate alarm is derived
   * from (`lib/platform/constructs/monitoring/alarm-thresholds.ts`).
   * @default DEFAULT_AVAILABILITY_TARGET (0.999: 43 minutes of failed requests a month)
   */
  readonly availabilityTarget?: number;
}

/** Three nines: a serving API behind one region's managed services can promise this, not more. */
export const DEFAULT_AVAILABILITY_TARGET = 0.999;

/** The availability objective of `r`, its default applied. */
export function availabilityTarget(r: Requirements): number {
  return r.availabilityTarget ?? DEFAULT_AVAILABILITY_TARGET;
}

/** The share of requests allowed to fail: one minus the availability objective. */
export function errorBudget(r: Requirements): number {
  return 1 - availabilityTarget(r);
}

/** API Gateway, a Lambda and one cache or Feature Store round trip cannot answer faster than this. */
export const MIN_ACHIEVABLE_P99_MS = 20;

export function averageRequestsPerSecond(r: Requirements): number {
  return (r.dailyActiveUsers * r.requestsPerUserPerDay) / 86_400;
}

/** Throws one error naming every field that is out of range or contradicts another. */
export function validateRequirements(r: Requirements): Requirements {
  const problems = new Problems();
  collectRequirementProblems(r, problems);
  problems.throwIfAny('requirements');
  return r;
}

/** Adds a problem for every field that is out of range or contradicts another. */
export function collectRequirementProblems(r: Requirements, problems: Problems, prefix = ''): void {
  problems = problems.scoped(prefix);
  problems.checkNumber('dailyActiveUsers', r.dailyActiveUsers, 1, 1e10, true);
  problems.checkNumber('requestsPerUserPerDay', r.requestsPerUserPerDay, 0.001, 1e5);
  problems.checkNumber('peakRequestsPerSecond', r.peakRequestsPerSecond, 1, 1e7);
  problems.checkNumber('p99LatencyMs', r.p99LatencyMs, MIN_ACHIEVABLE_P99_MS, 60_000);
  problems.checkNumber('retrainEveryHours', r.retrainEveryHours, 1, 24 * 365, true);
  problems.checkNumber('modelRequestShare', r.modelRequestShare, 0, 1);
  if (r.availabilityTarget !== undefined) {
    // Below 90% no alarm is worth paging on; above five nines a month's budget is 26 s, less than
    // one alarm evaluation window, so no alarm could protect it.
    problems.checkNumber('availabilityTarget', r.availabilityTarget, 0.9, 0.99999);
  }
  const average = averageRequestsPerSecond(r);
  if (r.peakRequestsPerSecond < average) {
    problems.add(
      'peakRequestsPerSecond',
      `is below the daily average implied by dailyActiveUsers x requestsPerUserPerDay (${r.peakRequestsPerSecond} < ${average.toFixed(1)})`,
    );
  }
}
