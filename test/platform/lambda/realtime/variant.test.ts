import {
  assignVariant,
  fnv1a32,
  readVariants,
  type WeightedVariant,
} from '../../../../lambda/platform/realtime/variant';
import { EnvReader } from '../../../../lambda/platform/shared/env-reader';

test('assigns each id to one variant, stably, in proportion to the weights', () => {
  const variants = [
    { name: 'champion', weight: 0.8 },
    { name: 'challenger', weight: 0.2 },
  ];
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const id = `user-${i}`;
    const variant = assignVariant(id, variants);
    expect(assignVariant(id, variants)).toBe(variant);
    counts.set(variant, (counts.get(variant) ?? 0) + 1);
  }
  expect(counts.get('challenger')! / 20_000).toBeCloseTo(0.2, 1);
  expect(assignVariant('anyone', [{ name: 'only', weight: 1 }])).toBe('only');
  expect(
    assignVariant('anyone', [
      { name: 'off', weight: 0 },
      { name: 'on', weight: 3 },
    ]),
  ).toBe('on');
});

test.each([
  ['not JSON', '{'],
  ['empty', '[]'],
  ['a name SageMaker refuses', '[{"name":"a_b","weight":1}]'],
  ['a negative weight', '[{"name":"a","weight":-1},{"name":"b","weight":1}]'],
  ['no positive weight', '[{"name":"a","weight":0}]'],
  ['a name twice', '[{"name":"a","weight":1},{"name":"a","weight":1}]'],
])('refuses variants that are %s', (_name, raw) => {
  const read = new EnvReader({});
  readVariants(read, { AB_VARIANTS: raw }, 'AB_VARIANTS');
  expect(() => read.done('config')).toThrow(/AB_VARIANTS/);
});

test('reads valid variants', () => {
  const read = new EnvReader({});
  expect(
    readVariants(read, { V: '[{"name":"champion","weight":9,"x":1},{"name":"c-2","weight":1}]' }, 'V'),
  ).toEqual([
    { name: 'champion', weight: 9 },
    { name: 'c-2', weight: 1 },
  ]);
  expect(() => read.done('config')).not.toThrow();
});

const ids = (count: number) => Array.from({ length: count }, (_, i) => `user-${i}`);

describe('fnv1a32', () => {
  it('matches the reference vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('assignVariant', () => {
  const variants: WeightedVariant[] = [
    { name: 'champion', weight: 0.9 },
    { name: 'challenger', weight: 0.1 },
  ];

  it('is stable: the same user always gets the same variant, in any order of calls', () => {
    const first = ids(1000).map((id) => assignVariant(id, variants));
    const again = ids(1000)
      .reverse()
      .map((id) => assignVariant(id, variants))
      .reverse();
    expect(again).toEqual(first);
  });

  it('does not depend on the scale of the weights', () => {
    const scaled = variants.map((v) => ({ ...v, weight: v.weight * 37 }));
    for (const id of ids(5000)) expect(assignVariant(id, scaled)).toBe(assignVariant(id, variants));
  });

  it.each([
    [
      [
        { name: 'champion', weight: 0.9 },
        { name: 'challenger', weight: 0.1 },
      ],
    ],
    [
      [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
        { name: 'c', weight: 2 },
      ],
    ],
    [
      [
        { name: 'a', weight: 0.5 },
        { name: 'off', weight: 0 },
        { name: 'b', weight: 0.5 },
      ],
    ],
  ])('follows the weights within 1 point on 100k ids: %j', (weighted: WeightedVariant[]) => {
    const counts = new Map<string, number>();
    const n = 100_000;
    for (const id of ids(n)) {
      const name = assignVariant(id, weighted);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const total = weighted.reduce((sum, v) => sum + v.weight, 0);
    for (const { name, weight } of weighted) {
      const share = (counts.get(name) ?? 0) / n;
      expect(Math.abs(share - weight / total)).toBeLessThan(0.01);
    }
  });

  it('never assigns a zero-weight variant', () => {
    const withOff = [
      { name: 'off', weight: 0 },
      { name: 'on', weight: 1 },
    ];
    for (const id of ids(10_000)) expect(assignVariant(id, withOff)).toBe('on');
  });

  it('serves the only variant to everyone', () => {
    expect(new Set(ids(1000).map((id) => assignVariant(id, [{ name: 'champion', weight: 1 }])))).toEqual(
      new Set(['champion']),
    );
  });
});
