import { deriveCapacity } from '../../../../lib/platform/config/capacity';
import { ConfigError } from '../../../../lib/platform/config/config-error';
import { PROFILES } from '../../../../lib/platform/config/profile';
import {
  DEFAULT_AVAILABILITY_TARGET,
  errorBudget,
  validateRequirements,
  type Requirements,
} from '../../../../lib/platform/config/requirements';
import {
  alarmThresholds,
  FAST_BURN_RATE,
  MAX_HOURLY_EVALUATION_PERIODS,
} from '../../../../lib/platform/constructs/monitoring/alarm-thresholds';
import { FIXTURE_REQUIREMENTS, feedRanking } from '../../../support/fixture-design';

const variants = feedRanking.abVariants;

function thresholdsOf(requirements: Requirements) {
  const capacity = deriveCapacity(requirements, PROFILES.production, feedRanking);
  return { capacity, thresholds: alarmThresholds(requirements, capacity, variants) };
}

describe('availabilityTarget', () => {
  test('defaults to three nines: an error budget of 0.1%', () => {
    expect(FIXTURE_REQUIREMENTS.availabilityTarget).toBeUndefined();
    expect(DEFAULT_AVAILABILITY_TARGET).toBe(0.999);
    expect(errorBudget(FIXTURE_REQUIREMENTS)).toBeCloseTo(0.001, 12);
  });

  test.each([0.5, 0.999999, Number.NaN])('%s is refused, naming the field', (target) => {
    expect(() => validateRequirements({ ...FIXTURE_REQUIREMENTS, availabilityTarget: target })).toThrow(
      ConfigError,
    );
    expect(() => validateRequirements({ ...FIXTURE_REQUIREMENTS, availabilityTarget: target })).toThrow(
      /availabilityTarget: must be a number in \[0\.9, 0\.99999\]/,
    );
  });

  test('a target inside the range passes', () => {
    const r = { ...FIXTURE_REQUIREMENTS, availabilityTarget: 0.995 };
    expect(validateRequirements(r)).toBe(r);
  });
});

describe('alarmThresholds', () => {
  test('the error share is the fast burn rate times the error budget', () => {
    const { thresholds } = thresholdsOf(FIXTURE_REQUIREMENTS);
    expect(thresholds.maxErrorShare).toBe(0.0144);
    expect(thresholds.endpoint.maxErrorShare).toBe(thresholds.maxErrorShare);
    // GIVEN a looser objective WHEN derived THEN the share follows it
    const loose = thresholdsOf({ ...FIXTURE_REQUIREMENTS, availabilityTarget: 0.99 }).thresholds;
    expect(loose.maxErrorShare).toBeCloseTo(FAST_BURN_RATE * 0.01, 6);
  });

  test('latency thresholds follow p99LatencyMs: the API at the target, the model at the serving timeout', () => {
    const fast = thresholdsOf({ ...FIXTURE_REQUIREMENTS, p99LatencyMs: 50 });
    const slow = thresholdsOf({ ...FIXTURE_REQUIREMENTS, p99LatencyMs: 400 });
    expect(fast.thresholds.apiP99Latency.toMilliseconds()).toBe(50);
    expect(slow.thresholds.apiP99Latency.toMilliseconds()).toBe(400);
    expect(fast.thresholds.endpoint.p99ModelLatency.toMilliseconds()).toBe(fast.capacity.modelTimeoutMs);
    expect(slow.thresholds.endpoint.p99ModelLatency.toMilliseconds()).toBe(800);
  });

  test('the cache hit ratio alarm leaves the endpoint room for the expected misses and the challenger', () => {
    // 20% challenger + 80% x 10% misses = 28% of requests reach the model; at 70% utilisation the
    // endpoint takes 40% before it runs flat out.
    expect(thresholdsOf(FIXTURE_REQUIREMENTS).thresholds.minCacheHitRatio).toBeCloseTo(0.6, 6);
    // A design whose every request reaches the model requires no hit ratio at all.
    expect(thresholdsOf({ ...FIXTURE_REQUIREMENTS, modelRequestShare: 1 }).thresholds.minCacheHitRatio).toBe(
      0,
    );
  });

  test('concurrency alarms at 80% of the sized concurrency; endpoint peak from the sized model traffic', () => {
    const { capacity, thresholds } = thresholdsOf(FIXTURE_REQUIREMENTS);
    expect(thresholds.maxServingConcurrency).toBe(Math.floor(capacity.functionConcurrency * 0.8));
    expect(thresholds.endpoint.peakRequestsPerMinute).toBeCloseTo(capacity.modelRequestsPerSecond * 60, 6);
  });

  test('staleness tolerates one missed retraining, within the seven days an hourly alarm can look back', () => {
    expect(thresholdsOf({ ...FIXTURE_REQUIREMENTS, retrainEveryHours: 6 }).thresholds.maxStalenessHours).toBe(
      12,
    );
    expect(
      thresholdsOf({ ...FIXTURE_REQUIREMENTS, retrainEveryHours: 24 * 30 }).thresholds.maxStalenessHours,
    ).toBe(MAX_HOURLY_EVALUATION_PERIODS);
  });
});
