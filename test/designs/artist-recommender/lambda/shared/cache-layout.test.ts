import {
  KEY_PART_PATTERN,
  POINTER_KEY,
  decodeList,
  encodeList,
  isScoredItem,
  popularKey,
  userKey,
  versionKeyPattern,
  type RecommendationList,
} from '../../../../../lambda/artist-recommender/shared/cache-layout';

const list: RecommendationList = {
  modelVersion: 'two-tower-2026-11-20',
  items: [
    { artistId: 'a1', score: 0.9 },
    { artistId: 'a2', score: -1 },
    { artistId: 'a3', score: 1 },
  ],
};

describe('encodeList / decodeList', () => {
  it('round-trips a list', () => {
    expect(decodeList(encodeList(list))).toEqual(list);
  });

  it('keeps only modelVersion and items', () => {
    const extended = { ...list, secret: 'x' } as RecommendationList;
    expect(JSON.parse(encodeList(extended))).toEqual({ modelVersion: list.modelVersion, items: list.items });
  });

  it('round-trips an empty list', () => {
    expect(decodeList(encodeList({ modelVersion: 'v', items: [] }))).toEqual({
      modelVersion: 'v',
      items: [],
    });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty string', ''],
    ['not JSON', '{"modelVersion":'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a string', '"list"'],
    ['an array', '[]'],
    ['no modelVersion', '{"items":[]}'],
    ['numeric modelVersion', '{"modelVersion":1,"items":[]}'],
    ['items not an array', '{"modelVersion":"v","items":{}}'],
    ['an item without artistId', '{"modelVersion":"v","items":[{"score":0.5}]}'],
    ['an empty artistId', '{"modelVersion":"v","items":[{"artistId":"","score":0.5}]}'],
    ['a score above 1', '{"modelVersion":"v","items":[{"artistId":"a","score":1.5}]}'],
    ['a score below -1', '{"modelVersion":"v","items":[{"artistId":"a","score":-1.01}]}'],
    ['a string score', '{"modelVersion":"v","items":[{"artistId":"a","score":"0.5"}]}'],
    ['a null item', '{"modelVersion":"v","items":[null]}'],
  ])('reads %s as a miss', (_name, raw) => {
    expect(decodeList(raw)).toBeUndefined();
  });

  it('rejects non-finite scores', () => {
    expect(isScoredItem({ artistId: 'a', score: Number.NaN })).toBe(false);
    expect(isScoredItem({ artistId: 'a', score: Number.POSITIVE_INFINITY })).toBe(false);
  });
});

describe('keys', () => {
  it('builds the documented layout', () => {
    expect(POINTER_KEY).toBe('recs:current');
    expect(userKey('v1', 'champion', 'user-1')).toBe('recs:v:v1:u:champion:user-1');
    expect(popularKey('v1')).toBe('recs:v:v1:popular');
    expect(versionKeyPattern('v1')).toBe('recs:v:v1:*');
  });

  it.each(['', 'a:b', 'a*', 'a b', 'ü', '{tag}', 'x'.repeat(129)])('refuses the key part %j', (part) => {
    expect(KEY_PART_PATTERN.test(part)).toBe(false);
    expect(() => userKey(part, 'champion', 'user-1')).toThrow('version');
    expect(() => userKey('v1', part, 'user-1')).toThrow('variant');
    expect(() => userKey('v1', 'champion', part)).toThrow('userId');
    expect(() => popularKey(part)).toThrow('version');
  });
});
