import { z } from 'zod';
import { Identifier, IsoTimestamp, foldedEnum, identifierList, canonicalTimestampEpoch } from '../lambda/platform/events/fields';
const N = 200000;
const ev = { event_id: 'evt-1', user_id: 'user-3', event_type: 'click', item_type: 'artist', item_id: 'item-4', artist_ids: [], ts: '2026-02-28T10:00:00.000Z', request_id: 'req-1', variant: 'champion' };
const ev2 = { ...ev, item_type: 'song', artist_ids: ['artist-1'] };
function bench(name: string, schema: z.ZodType) {
  let best = Infinity;
  for (let r = 0; r < 7; r++) { const t = performance.now(); for (let i = 0; i < N; i++) { schema.safeParse(ev); schema.safeParse(ev2); } best = Math.min(best, performance.now() - t); }
  console.log(name.padEnd(40), (2 * N / best * 1000 / 1e6).toFixed(2), 'M/s');
}
const E = ['impression', 'click', 'play', 'like'] as const, I = ['artist', 'song'] as const;
bench('V0 current', z.object({ event_id: Identifier, user_id: Identifier, item_id: Identifier, request_id: Identifier, variant: Identifier, event_type: foldedEnum(E, 'a'), item_type: foldedEnum(I, 'b'), artist_ids: identifierList(100), song_ids: identifierList(100), ts: IsoTimestamp }));
bench('V1 ids only', z.object({ event_id: Identifier, user_id: Identifier, item_id: Identifier, request_id: Identifier, variant: Identifier }));
bench('V1b ids plain strings', z.object({ event_id: z.string(), user_id: z.string(), item_id: z.string(), request_id: z.string(), variant: z.string() }));
bench('V2 enums', z.object({ event_type: foldedEnum(E, 'a'), item_type: foldedEnum(I, 'b') }));
bench('V3 lists', z.object({ artist_ids: identifierList(100), song_ids: identifierList(100) }));
bench('V4 ts', z.object({ ts: IsoTimestamp }));
const tsCheck = z.string().check((ctx) => { if (canonicalTimestampEpoch(ctx.value) === undefined) ctx.issues.push({ code: 'custom', message: 'x', input: ctx.value }); });
bench('V4b ts check only', z.object({ ts: tsCheck }));
bench('V3b lists array.max.optional', z.object({ artist_ids: z.array(Identifier).max(100).nullish(), song_ids: z.array(Identifier).max(100).nullish() }));
