import { resolveAppConfig } from '../../lib/platform/config/app-config';
import { deriveCapacity } from '../../lib/platform/config/capacity';
import { ConfigError } from '../../lib/platform/config/config-error';
import type { Design } from '../../lib/platform/config/design';
import { PROFILES } from '../../lib/platform/config/profile';
import { validateRequirements, type Requirements } from '../../lib/platform/config/requirements';
import { DESIGNS } from '../../lib/designs';
import { artistRecommender } from '../../lib/designs/artist-recommender/design';

const requirements = artistRecommender.requirements;

describe('requirements', () => {
  test('the artist recommender is valid', () => {
    expect(validateRequirements(requirements)).toBe(requirements);
  });

  test('one error names every bad field', () => {
    const bad: Requirements = {
      ...requirements,
      dailyActiveUsers: -5,
      p99LatencyMs: 5,
      topK: 0,
      scoreThreshold: 1.5,
      retrainEveryHours: 0.5,
    };
    expect(() => validateRequirements(bad)).toThrow(ConfigError);
    try {
      validateRequirements(bad);
    } catch (error) {
      const message = (error as ConfigError).message;
      for (const field of [
        'dailyActiveUsers',
        'p99LatencyMs',
        'topK',
        'scoreThreshold',
        'retrainEveryHours',
      ]) {
        expect(message).toMatch(new RegExp(`- ${field}:`));
      }
      expect((error as ConfigError).problems).toHaveLength(5);
    }
  });

  test('contradictions are impossible requirements', () => {
    const bad = { ...requirements, topK: 60, catalogueSize: 50, peakRequestsPerSecond: 10 };
    expect(() => validateRequirements(bad)).toThrow(
      /topK: cannot exceed catalogueSize[\s\S]*peakRequestsPerSecond: is below the daily average/,
    );
  });
});

describe('resolveAppConfig', () => {
  test('defaults to the first design and the sandbox profile', () => {
    const config = resolveAppConfig({}, DESIGNS);
    expect(config.design.id).toBe('artist-recommender');
    expect(config.profile.name).toBe('sandbox');
  });

  test('bad context values and bad requirements fail together', () => {
    const broken: Design = {
      ...artistRecommender,
      requirements: { ...requirements, topK: 500 },
      abVariants: [
        { name: 'champion', weight: 0.5 },
        { name: 'champion', weight: 2 },
      ],
    };
    expect(() => resolveAppConfig({ profile: 'prod' }, { [broken.id]: broken })).toThrow(
      /profile: must be one of sandbox, production; got "prod"[\s\S]*artist-recommender\.requirements\.topK[\s\S]*abVariants\[1\]\.name: duplicates champion[\s\S]*abVariants\[1\]\.weight/,
    );
  });

  test('an unknown design is named', () => {
    expect(() => resolveAppConfig({ design: 'feed-ranking' }, DESIGNS)).toThrow(
      /design: must be one of artist-recommender; got "feed-ranking"/,
    );
  });
});

describe('deriveCapacity', () => {
  test('production admits the design peak with headroom and reserves concurrency for it', () => {
    const capacity = deriveCapacity(requirements, PROFILES.production);
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
  });

  test('timeouts follow the latency target and fit API Gateway', () => {
    const fast = deriveCapacity({ ...requirements, p99LatencyMs: 40 }, PROFILES.production);
    const slow = deriveCapacity({ ...requirements, p99LatencyMs: 400 }, PROFILES.production);
    expect(fast.cacheCommandTimeoutMs).toBeLessThan(slow.cacheCommandTimeoutMs);
    expect(fast.modelTimeoutMs).toBe(80);
    expect(slow.functionTimeout.toSeconds()).toBeLessThanOrEqual(29);
    expect(fast.modelAnswerTtlSeconds).toBe(requirements.retrainEveryHours * 3600);
  });
});

describe('run names', () => {
  test('carry the design and the profile, so a sandbox never touches its production in one account', () => {
    const sandbox = resolveAppConfig({ profile: 'sandbox' }, DESIGNS);
    const production = resolveAppConfig({ profile: 'production' }, DESIGNS);
    expect(sandbox.runNamePrefix).toBe('artist-recommender-sbx');
    expect(production.runNamePrefix).toBe('artist-recommender-prod');
    // Neither is a prefix of the other's run names.
    expect(`${production.runNamePrefix}-x`.startsWith(`${sandbox.runNamePrefix}-`)).toBe(false);
    // A run name is the prefix, '-' and a UUID: at most 63 characters.
    expect(production.runNamePrefix.length + 37).toBeLessThanOrEqual(63);
  });

  test('a design id too long for run names fails synth, naming it', () => {
    const long = { ...artistRecommender, id: 'artist-recommender-with-a-long-name' };
    expect(() => resolveAppConfig({ design: long.id }, { [long.id]: long })).toThrow(
      /artist-recommender-with-a-long-name\.id: must be lower-case letters, digits and '-', at most 21 characters/,
    );
  });
});
