import { z } from 'zod';
import { Identifier, IsoTimestamp, foldedEnum, identifierList } from '../lambda/platform/events/fields';
const N = 200000;
function bench(name: string, schema: z.ZodType, value: unknown, opts?: object) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t = performance.now(); for (let i = 0; i < N; i++) schema.safeParse(value, opts as never); best = Math.min(best, performance.now() - t); }
  console.log(name.padEnd(30), (N / best * 1000 / 1e6).toFixed(2), 'M/s');
}
bench('z.string', z.string(), 'abc-123');
bench('Identifier', Identifier, 'abc-123');
bench('IsoTimestamp', IsoTimestamp, '2026-02-28T10:00:00.000Z');
bench('foldedEnum', foldedEnum(['a', 'b'] as const, 'x'), 'a');
bench('z.enum', z.enum(['a', 'b']), 'a');
bench('identifierList empty', identifierList(100), []);
bench('identifierList undefined', identifierList(100), undefined);
bench('identifierList 2', identifierList(100), ['x', 'y']);
bench('z.array(string)', z.array(z.string()), ['x', 'y']);
const obj = z.object({ a: z.string(), b: z.string(), c: z.string() });
bench('obj 3 strings', obj, { a: 'x', b: 'y', c: 'z' });
bench('obj 3 strings reportInput', obj, { a: 'x', b: 'y', c: 'z' }, { reportInput: true });
const obj2 = z.object({ a: Identifier, b: Identifier, c: Identifier });
bench('obj 3 ids', obj2, { a: 'x', b: 'y', c: 'z' });
