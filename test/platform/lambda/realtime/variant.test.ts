import { assignVariant, readVariants } from '../../../../lambda/platform/realtime/variant';
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
