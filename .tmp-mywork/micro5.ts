import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { validateEvent as newValidate } from '../lambda/artist-recommender/events/schema';
import { InteractionEvent } from '../lib/designs/artist-recommender/contracts/events';
const lines = gunzipSync(readFileSync('.bench/etl/combined.jsonl.gz')).toString('utf8').split('\n').filter(Boolean);
const values = lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).filter((v) => v !== undefined);
const opts = { now: Date.parse('2026-03-01T00:00:00Z') };
const mode = process.argv[2];
for (let k = 0; k < 3; k++) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t = performance.now(); 
    if (mode === 'raw') for (const v of values) InteractionEvent.safeParse(v); else for (const v of values) newValidate(v, opts);
    best = Math.min(best, performance.now() - t); }
  console.log(mode, (values.length / best * 1000).toFixed(0), 'events/s');
}
