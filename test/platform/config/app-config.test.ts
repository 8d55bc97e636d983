import { resolveAppConfig } from '../../../lib/platform/config/app-config';
import { ConfigError } from '../../../lib/platform/config/config-error';
import type { Design } from '../../../lib/platform/config/design';
import { PROFILES } from '../../../lib/platform/config/profile';
import { FIXTURE_REQUIREMENTS, feedRanking, fixtureDesign, registry } from '../../support/fixture-design';

const second = fixtureDesign({ id: 'feed-ranking-two' });

function problemsOf(resolve: () => unknown): readonly string[] {
  try {
    resolve();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('resolveAppConfig', () => {
  test('defaults to the first design and the sandbox profile', () => {
    const config = resolveAppConfig({}, registry(feedRanking, second));
    expect(config.design).toBe(feedRanking);
    expect(config.profile).toBe(PROFILES.sandbox);
  });

  test('builds the named design for the named profile, sized for it', () => {
    const config = resolveAppConfig(
      { design: 'feed-ranking-two', profile: 'production' },
      registry(feedRanking, second),
    );
    expect(config.design).toBe(second);
    expect(config.profile).toBe(PROFILES.production);
    // Production is sized for the whole peak, with 25% headroom.
    expect(config.capacity.apiRateLimit).toBe(500);
  });

  test('bad context values, bad requirements, bad variants and the design’s own problems fail together', () => {
    // GIVEN a bad profile and a design with a bad requirement, two bad variants and a bad setting of its own
    const broken: Design = fixtureDesign({
      requirements: { ...FIXTURE_REQUIREMENTS, p99LatencyMs: 5 },
      abVariants: [
        { name: 'champion', weight: 0.5 },
        { name: 'champion', weight: 2 },
      ],
      collectProblems(problems) {
        problems.add('ranking.depth', 'must be at least 1');
      },
    });
    const resolve = () => resolveAppConfig({ profile: 'prod' }, registry(broken));
    // WHEN resolved THEN one error names each, under the design's id
    expect(resolve).toThrow(
      /profile: must be one of sandbox, production; got "prod"[\s\S]*feed-ranking\.requirements\.p99LatencyMs[\s\S]*feed-ranking\.abVariants\[1\]\.name: duplicates champion[\s\S]*feed-ranking\.abVariants\[1\]\.weight[\s\S]*feed-ranking\.ranking\.depth: must be at least 1/,
    );
    expect(problemsOf(resolve)).toHaveLength(5);
  });

  test('a design’s own checks run on the design itself', () => {
    // GIVEN a design with a setting of its own, which its check reads through `this`
    interface DeepDesign extends Design {
      readonly depth: number;
    }
    const withDepth = (depth: number): DeepDesign => ({
      ...fixtureDesign(),
      depth,
      collectProblems(this: DeepDesign, problems) {
        problems.checkNumber('depth', this.depth, 1, 10, true);
      },
    });
    // THEN its problem is reported under the design's id, and a sound value passes
    expect(problemsOf(() => resolveAppConfig({}, registry(withDepth(0))))).toEqual([
      'feed-ranking.depth: must be a number in [1, 10], got 0',
    ]);
    expect(problemsOf(() => resolveAppConfig({}, registry(withDepth(3))))).toEqual([]);
  });

  test('an unknown design is named, with the designs there are', () => {
    expect(() => resolveAppConfig({ design: 'photo-tagging' }, registry(feedRanking, second))).toThrow(
      /design: must be one of feed-ranking, feed-ranking-two; got "photo-tagging"/,
    );
    expect(() => resolveAppConfig({ design: 42 }, registry(feedRanking))).toThrow(
      /design: must be one of feed-ranking; got 42/,
    );
  });

  test('an unknown design and an unknown profile fail together', () => {
    expect(
      problemsOf(() => resolveAppConfig({ design: 'x', profile: 'staging' }, registry(feedRanking))),
    ).toEqual([
      'design: must be one of feed-ranking; got "x"',
      'profile: must be one of sandbox, production; got "staging"',
    ]);
  });

  test('variants: at least one, at most 10, endpoint-safe names, one with a positive weight', () => {
    const problems = (abVariants: Design['abVariants']) =>
      problemsOf(() => resolveAppConfig({}, registry(fixtureDesign({ abVariants }))));
    expect(problems([])).toEqual(['feed-ranking.abVariants: must name at least one variant']);
    expect(problems(Array.from({ length: 11 }, (_, i) => ({ name: `v${i}`, weight: 0.1 })))).toEqual([
      'feed-ranking.abVariants: an endpoint holds at most 10 production variants',
    ]);
    expect(problems([{ name: 'champion_1', weight: 1 }])).toEqual([
      'feed-ranking.abVariants[0].name: must be 1-63 letters, digits and inner hyphens; got "champion_1"',
    ]);
    expect(problems([{ name: 'champion', weight: 0 }])).toEqual([
      'feed-ranking.abVariants: needs one variant with a positive weight',
    ]);
  });
});
