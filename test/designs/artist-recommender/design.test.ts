import { resolveAppConfig } from '../../../lib/platform/config/app-config';
import { ConfigError } from '../../../lib/platform/config/config-error';
import { PROFILE_NAMES } from '../../../lib/platform/config/profile';
import { MAX_TOP_K } from '../../../lib/platform/constructs/serving/cached-ranking/cached-ranking';
import { DESIGNS } from '../../../lib/designs';
import {
  artistRecommender,
  type ArtistRecommenderDesign,
} from '../../../lib/designs/artist-recommender/design';

/** The problems `resolveAppConfig` reports for a changed copy of the recommender, [] when it resolves. */
function problemsOf(changes: Partial<ArtistRecommenderDesign>): readonly string[] {
  const design: ArtistRecommenderDesign = { ...artistRecommender, ...changes };
  try {
    resolveAppConfig({ design: design.id }, { [design.id]: design });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the artist recommender design', () => {
  test.each(PROFILE_NAMES)('resolves for the %s profile', (profile) => {
    expect(resolveAppConfig({ design: 'artist-recommender', profile }, DESIGNS).design).toBe(
      artistRecommender,
    );
  });

  test('its run names, which the deployed IAM is scoped to', () => {
    const runNamePrefix = (profile: string) =>
      resolveAppConfig({ design: 'artist-recommender', profile }, DESIGNS).runNamePrefix;
    expect(runNamePrefix('sandbox')).toBe('artist-recommender-sbx');
    expect(runNamePrefix('production')).toBe('artist-recommender-prod');
  });

  test('one error names every bad ranking and data setting', () => {
    expect(
      problemsOf({
        ranking: { topK: 0, catalogueSize: 0.5, scoreThreshold: 1.5 },
        data: { ...artistRecommender.data, kAnonymity: 1, validationDays: 0 },
      }),
    ).toEqual([
      `artist-recommender.ranking.topK: must be a number in [1, ${MAX_TOP_K}], got 0`,
      'artist-recommender.ranking.catalogueSize: must be a number in [1, 1000000000], got 0.5',
      'artist-recommender.ranking.scoreThreshold: must be a number in [-1, 1], got 1.5',
      'artist-recommender.data.kAnonymity: must be a number in [2, 1000000], got 1',
      'artist-recommender.data.validationDays: must be a number in [1, 90], got 0',
    ]);
  });

  test('the cached list is at most what the cached-ranking pattern holds', () => {
    const ranking = { ...artistRecommender.ranking, topK: MAX_TOP_K };
    expect(problemsOf({ ranking })).toEqual([]);
    expect(problemsOf({ ranking: { ...ranking, topK: MAX_TOP_K + 1 } })).toEqual([
      `artist-recommender.ranking.topK: must be a number in [1, ${MAX_TOP_K}], got ${MAX_TOP_K + 1}`,
    ]);
  });

  test('a list longer than the catalogue is an impossible requirement', () => {
    expect(problemsOf({ ranking: { ...artistRecommender.ranking, topK: 60, catalogueSize: 50 } })).toEqual([
      'artist-recommender.ranking.topK: cannot exceed catalogueSize (60 > 50)',
    ]);
  });

  test('its platform requirements are checked with the rest', () => {
    expect(
      problemsOf({ requirements: { ...artistRecommender.requirements, modelRequestShare: -0.1 } }),
    ).toEqual(['artist-recommender.requirements.modelRequestShare: must be a number in [0, 1], got -0.1']);
  });
});
