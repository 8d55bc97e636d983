import { ConfigError } from '../../../lib/platform/config/config-error';
import { validateRequirements, type Requirements } from '../../../lib/platform/config/requirements';
import { FIXTURE_REQUIREMENTS } from '../../support/fixture-design';

function problemsOf(requirements: Requirements): readonly string[] {
  try {
    validateRequirements(requirements);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('requirements', () => {
  test('sound requirements pass unchanged', () => {
    expect(validateRequirements(FIXTURE_REQUIREMENTS)).toBe(FIXTURE_REQUIREMENTS);
  });

  test('one error names every bad field', () => {
    // GIVEN five fields out of range
    const bad: Requirements = {
      ...FIXTURE_REQUIREMENTS,
      dailyActiveUsers: -5,
      requestsPerUserPerDay: 0,
      p99LatencyMs: 5,
      retrainEveryHours: 0.5,
      modelRequestShare: 1.5,
    };
    // WHEN validated THEN one ConfigError lists each of them, and nothing else
    expect(() => validateRequirements(bad)).toThrow(ConfigError);
    const problems = problemsOf(bad);
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'dailyActiveUsers',
      'requestsPerUserPerDay',
      'p99LatencyMs',
      'retrainEveryHours',
      'modelRequestShare',
    ]);
    expect(() => validateRequirements(bad)).toThrow(
      /- modelRequestShare: must be a number in \[0, 1\], got 1\.5/,
    );
  });

  test('counts of users and hours must be whole, and every field a finite number', () => {
    const problems = problemsOf({
      ...FIXTURE_REQUIREMENTS,
      dailyActiveUsers: 1000.5,
      retrainEveryHours: 1.5,
      modelRequestShare: Number.NaN,
    });
    expect(problems).toEqual([
      'dailyActiveUsers: must be an integer, got 1000.5',
      'retrainEveryHours: must be an integer, got 1.5',
      'modelRequestShare: must be a number in [0, 1], got null',
    ]);
  });

  test('the model may answer no request (every list precomputed) or every one (real-time scoring)', () => {
    expect(problemsOf({ ...FIXTURE_REQUIREMENTS, modelRequestShare: 0 })).toEqual([]);
    expect(problemsOf({ ...FIXTURE_REQUIREMENTS, modelRequestShare: 1 })).toEqual([]);
  });

  test('a peak below the daily average is an impossible requirement', () => {
    // GIVEN 1,000,000 users x 8.64 requests a day: 100 requests/s on average
    const bad = { ...FIXTURE_REQUIREMENTS, peakRequestsPerSecond: 10 };
    expect(() => validateRequirements(bad)).toThrow(
      /peakRequestsPerSecond: is below the daily average implied by dailyActiveUsers x requestsPerUserPerDay \(10 < 100\.0\)/,
    );
  });
});
