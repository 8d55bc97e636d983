import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { InteractionEvent } from '../lib/designs/artist-recommender/contracts/events';
try { z.compile(InteractionEvent, { strict: true }); console.log('compiled strictly'); } catch (e) { console.log('refused:', (e as Error).message); }
const C = z.compile(InteractionEvent);
const lines = gunzipSync(readFileSync('.bench/etl/combined.jsonl.gz')).toString('utf8').split('\n').filter(Boolean);
const values = lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).filter((v) => v !== undefined);
let diff = 0;
for (const v of values) { const a = InteractionEvent.safeParse(v); const b = C.safeParse(v); if (JSON.stringify(a.success ? a.data : a.error.issues) !== JSON.stringify(b.success ? b.data : b.error.issues)) diff++; }
console.log('differences', diff);
for (const [name, s] of [['runtime', InteractionEvent], ['compiled', C], ['runtime', InteractionEvent], ['compiled', C]] as const) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t = performance.now(); for (const v of values) s.safeParse(v); best = Math.min(best, performance.now() - t); }
  console.log(name, (values.length / best * 1000).toFixed(0), 'events/s');
}
