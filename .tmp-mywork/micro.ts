import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { validateEvent as oldValidate } from './old-schema';
import { validateEvent as newValidate } from '../lambda/artist-recommender/events/schema';
const lines = gunzipSync(readFileSync('.bench/etl/combined.jsonl.gz')).toString('utf8').split('\n').filter(Boolean);
const values = lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).filter((v) => v !== undefined);
const opts = { now: Date.parse('2026-03-01T00:00:00Z') };
let mism = 0;
for (const v of values) { const a = oldValidate(v, opts); const b = newValidate(v, opts); if (JSON.stringify(a.ok ? {ok:true} : a) !== JSON.stringify(b.ok ? {ok:true} : b)) { if (mism++ < 5) console.log(JSON.stringify(v).slice(0,200), a, b); } }
console.log('values', values.length, 'mismatches', mism, 'rejected', values.filter(v => !oldValidate(v, opts).ok).length);
for (const [name, fn] of [['old', oldValidate], ['new', newValidate], ['old', oldValidate], ['new', newValidate]] as const) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t = performance.now(); for (const v of values) fn(v, opts); best = Math.min(best, performance.now() - t); }
  console.log(name, (values.length / best * 1000).toFixed(0), 'events/s');
}
