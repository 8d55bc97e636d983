import { deriveCapacity } from '../../../lib/platform/config/capacity';
import { PROFILES } from '../../../lib/platform/config/profile';
import { FIXTURE_REQUIREMENTS as requirements, feedRanking } from '../../support/fixture-design';

describe('deriveCapacity', () => {
  test('production admits the design peak with headroom and reserves concurrency for it', () => {
    const capacity = deriveCapacity(requirements, PROFILES.production, feedRanking);
    expect(capacity.apiRateLimit).toBe(Math.ceil(requirements.peakRequestsPerSecond * 1.25));
    expect(capacity.apiBurstLimit).toBe(capacity.apiRateLimit * 2);
    // Little's law: rate x p99 x 2 executions in flight.
    expect(capacity.functionConcurrency).toBe(
      Math.ceil(capacity.apiRateLimit * (requirements.p99LatencyMs / 1000) * 2),
    );
    expect(capacity.reservedConcurrency).toBe(capacity.functionConcurrency);
  });

  test('the sandbox is sized for its load fraction and reserves nothing', () => {
    const capacity = deriveCapacity(requirements, PROFILES.sandbox);
    expect(capacity.apiRateLimit).toBe(
      Math.max(10, Math.ceil(requirements.peakRequestsPerSecond * 0.01 * 1.25)),
    );
    expect(capacity.reservedConcurrency).toBeUndefined();
    // A serverless endpoint scales itself.
    expect(capacity.endpointScaling).toBeUndefined();
  });

  test('timeouts follow the latency target and fit API Gateway', () => {
    const fast = deriveCapacity({ ...requirements, p99LatencyMs: 40 }, PROFILES.production, feedRanking);
    const slow = deriveCapacity({ ...requirements, p99LatencyMs: 400 }, PROFILES.production, feedRanking);
    expect(fast.cacheCommandTimeoutMs).toBeLessThan(slow.cacheCommandTimeoutMs);
    expect(fast.featureReadTimeoutMs).toBe(fast.cacheCommandTimeoutMs);
    expect(fast.modelTimeoutMs).toBe(80);
    expect(slow.functionTimeout.toSeconds()).toBeLessThanOrEqual(29);
  });

  test('a model answer is kept until the next training, and a day at most', () => {
    const ttl = (retrainEveryHours: number) =>
      deriveCapacity({ ...requirements, retrainEveryHours }, PROFILES.production, feedRanking)
        .modelAnswerTtlSeconds;
    expect(ttl(2)).toBe(7200);
    expect(ttl(24)).toBe(86_400);
    expect(ttl(48)).toBe(86_400);
  });

  test('the endpoint is sized for the requests the model answers: the challenger’s, and its share of the champion’s', () => {
    // GIVEN production's 500 admitted requests/s, a 20% challenger and a model of 10 ms a request: a
    // 2-vCPU instance serves 200 requests/s
    const production = (modelRequestShare: number) =>
      deriveCapacity({ ...requirements, modelRequestShare }, PROFILES.production, feedRanking);
    // WHEN the model answers a tenth of the champion's requests THEN 0.2 + 0.8 x 0.1 of 500 reach it
    const cached = production(0.1);
    expect(cached.modelRequestsPerSecond).toBeCloseTo(140);
    expect(cached.endpointScaling).toEqual({
      instanceType: 'ml.c6i.large',
      minInstances: 2,
      maxInstances: 2,
      targetInvocationsPerInstancePerMinute: 8400,
      workersPerInstance: 2,
    });
    // WHEN it answers every request THEN all 500 reach it, and 500 / (200 x 70%) instances may be needed
    const realTime = production(1);
    expect(realTime.modelRequestsPerSecond).toBe(500);
    expect(realTime.endpointScaling?.maxInstances).toBe(4);
    // AND without variants every user is the champion's
    const unsplit = { abVariants: [], model: feedRanking.model };
    expect(deriveCapacity(requirements, PROFILES.production, unsplit).modelRequestsPerSecond).toBeCloseTo(50);
  });
});
