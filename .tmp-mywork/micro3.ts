import { z } from 'zod';
import { Identifier, identifierList } from '../lambda/platform/events/fields';
const N = 200000;
function bench(name: string, schema: z.ZodType, value: unknown) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t = performance.now(); for (let i = 0; i < N; i++) schema.safeParse(value); best = Math.min(best, performance.now() - t); }
  console.log(name.padEnd(30), (N / best * 1000 / 1e6).toFixed(2), 'M/s');
}
const dedupe = (ids: string[] | null | undefined) => (!ids ? [] : ids.length < 2 ? ids : [...new Set(ids)]);
const L2 = z.array(Identifier, { error: 'x' }).check((ctx) => { if (ctx.value.length > 100) ctx.issues.push({ code: 'custom', message: 'm', input: ctx.value }); }).nullish().transform(dedupe);
const L3 = z.array(Identifier, { error: 'x' }).max(100).nullish().transform(dedupe);
const L4 = z.array(Identifier, { error: 'x' }).max(100).optional();
for (const v of [[], undefined, ['x', 'y'], ['a']]) {
  console.log(JSON.stringify(v));
  bench('L1 current', identifierList(100), v);
  bench('L2 array.check.nullish.transform', L2, v);
  bench('L3 array.max.nullish.transform', L3, v);
  bench('L4 array.max.optional', L4, v);
}
