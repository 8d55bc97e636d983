import {
  recommend,
  selectItems,
  type RecommendDependencies,
} from '../../../../../lambda/artist-recommender/recommendations/recommend';
import type { RecommendationStore } from '../../../../../lambda/artist-recommender/recommendations/recommendation-store';
import type {
  RecommendationList,
  ScoredItem,
} from '../../../../../lambda/artist-recommender/shared/cache-layout';

const item = (artistId: string, score: number): ScoredItem => ({ artistId, score });

describe('selectItems', () => {
  const items = [item('a', 0.1), item('b', 0.9), item('c', 0.5), item('d', -0.3), item('e', 0.5)];

  it('keeps items at or above the threshold, best first', () => {
    expect(selectItems(items, 0.5, 10)).toEqual([item('b', 0.9), item('c', 0.5), item('e', 0.5)]);
  });

  it('applies the limit after the threshold', () => {
    expect(selectItems(items, -1, 2)).toEqual([item('b', 0.9), item('c', 0.5)]);
  });

  it('keeps the stored order among equal scores', () => {
    expect(selectItems(items, 0.5, 3).map((i) => i.artistId)).toEqual(['b', 'c', 'e']);
  });

  it('returns nothing when every item is below the threshold', () => {
    expect(selectItems(items, 0.95, 10)).toEqual([]);
  });

  it('does not modify its input', () => {
    const copy = items.map((i) => ({ ...i }));
    selectItems(items, 0, 1);
    expect(items).toEqual(copy);
  });
});

describe('recommend', () => {
  const list = (modelVersion: string): RecommendationList => ({ modelVersion, items: [item('x', 0.8)] });

  function store(overrides: Partial<RecommendationStore> = {}): RecommendationStore {
    return {
      currentVersion: async () => 'v1',
      userList: async () => undefined,
      popular: async () => list('popular'),
      saveUserList: async () => undefined,
      ...overrides,
    };
  }

  const deps = (overrides: Partial<RecommendDependencies>): RecommendDependencies => ({
    store: store(),
    variants: [{ name: 'champion', weight: 1 }],
    scoreThreshold: 0,
    modelTopK: 100,
    modelAnswerTtlSeconds: 60,
    ...overrides,
  });

  it('reports no-version and answers from the model without caching it', async () => {
    const saveUserList = jest.fn(async () => undefined);
    const degradations: string[] = [];
    const answer = await recommend(
      deps({
        store: store({ currentVersion: async () => undefined, saveUserList }),
        model: { recommend: async () => list('m') },
        onDegradation: (kind) => degradations.push(kind),
      }),
      { userId: 'u', limit: 5 },
    );
    expect(answer?.source).toBe('model');
    expect(saveUserList).not.toHaveBeenCalled();
    expect(degradations).toEqual(['no-version']);
  });

  it('answers undefined with no version and no model', async () => {
    const answer = await recommend(deps({ store: store({ currentVersion: async () => undefined }) }), {
      userId: 'u',
      limit: 5,
    });
    expect(answer).toBeUndefined();
  });

  it('still answers from the model when caching its answer fails', async () => {
    const degradations: string[] = [];
    const answer = await recommend(
      deps({
        store: store({
          saveUserList: async () => {
            throw new Error('READONLY');
          },
        }),
        model: { recommend: async () => list('m') },
        onDegradation: (kind) => degradations.push(kind),
      }),
      { userId: 'u', limit: 5 },
    );
    expect(answer).toMatchObject({ source: 'model', modelVersion: 'm' });
    expect(degradations).toEqual(['cache-write-error']);
  });

  describe('a list with nothing at or above the threshold', () => {
    const below: RecommendationList = { modelVersion: 'low', items: [item('y', 0.1), item('z', -0.4)] };

    it('read from the cache is a miss: the model answers, then its answer is cached', async () => {
      const saveUserList = jest.fn(async () => undefined);
      const answer = await recommend(
        deps({
          scoreThreshold: 0.2,
          store: store({ userList: async () => below, saveUserList }),
          model: { recommend: async () => list('m') },
        }),
        { userId: 'u', limit: 5 },
      );
      expect(answer).toMatchObject({ source: 'model', modelVersion: 'm', items: [item('x', 0.8)] });
      expect(saveUserList).toHaveBeenCalledTimes(1);
    });

    it('read from the cache, with no model, gives way to the popularity list', async () => {
      const answer = await recommend(
        deps({
          scoreThreshold: 0.2,
          store: store({ userList: async () => ({ modelVersion: 'e', items: [] }) }),
        }),
        { userId: 'u', limit: 5 },
      );
      expect(answer).toMatchObject({ source: 'fallback', modelVersion: 'popular', items: [item('x', 0.8)] });
    });

    it('from the model gives way to the popularity list and is not cached', async () => {
      const saveUserList = jest.fn(async () => undefined);
      const answer = await recommend(
        deps({
          scoreThreshold: 0.2,
          store: store({ saveUserList }),
          model: { recommend: async () => below },
        }),
        { userId: 'u', limit: 5 },
      );
      expect(answer).toMatchObject({ source: 'fallback', modelVersion: 'popular' });
      expect(saveUserList).not.toHaveBeenCalled();
    });

    it('from the model is still the answer when the cache is down', async () => {
      const answer = await recommend(
        deps({
          scoreThreshold: 0.2,
          store: store({
            currentVersion: async () => {
              throw new Error('down');
            },
          }),
          model: { recommend: async () => below },
        }),
        { userId: 'u', limit: 5 },
      );
      expect(answer).toMatchObject({ source: 'model', modelVersion: 'low', items: [] });
    });
  });

  it('answers undefined when the popularity list is missing too', async () => {
    const answer = await recommend(deps({ store: store({ popular: async () => undefined }) }), {
      userId: 'u',
      limit: 5,
    });
    expect(answer).toBeUndefined();
  });
});
