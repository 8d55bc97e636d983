import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateData } from '../../../../scripts/artist-recommender/generate-data';
import { rawKeys } from '../../../support/pipeline';

const dirs: string[] = [];
function generate(seed: number) {
  const out = mkdtempSync(join(tmpdir(), 'gen-'));
  dirs.push(out);
  return {
    out,
    summary: generateData({ users: 120, days: 2, out, seed, malformedRate: 0.02, duplicateRate: 0.02 }),
  };
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function digest(dir: string): string {
  const hash = createHash('sha256');
  for (const key of [...rawKeys(dir), 'accounts.csv', 'summary.json'])
    hash.update(key).update(readFileSync(join(dir, key)));
  return hash.digest('hex');
}

describe('generate-data', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generate(5);
    const b = generate(5);
    const c = generate(6);
    expect(digest(a.out)).toBe(digest(b.out));
    expect(digest(a.out)).not.toBe(digest(c.out));
  });

  it('writes hourly Firehose-like partitions whose lines match the summary', () => {
    const { out, summary } = generate(7);
    const keys = rawKeys(out);
    expect(keys.length).toBe(summary.files);
    for (const key of keys) expect(key).toMatch(/^raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/events-[\d-]+\.gz$/);
    const lines = keys.flatMap((k) =>
      gunzipSync(readFileSync(join(out, k)))
        .toString('utf8')
        .trimEnd()
        .split('\n'),
    );
    expect(lines.length).toBe(summary.lines);
    expect(summary.lines).toBe(
      summary.events +
        summary.malformed.total +
        summary.duplicatesWithinObject +
        summary.duplicatesAcrossObjects,
    );
    expect(summary.malformed.total).toBeGreaterThan(0);
    expect(summary.duplicatesWithinObject).toBeGreaterThan(0);
    expect(summary.duplicatesAcrossObjects).toBeGreaterThan(0);
    const accounts = readFileSync(join(out, 'accounts.csv'), 'utf8').trimEnd().split('\n');
    expect(accounts[0]).toBe('user_id,date_of_birth,city,state,country,created_at');
    expect(accounts.length).toBe(121);
  });

  it('plants taste groups: clicks concentrate on the group artists', () => {
    const { out, summary } = generate(8);
    let inGroup = 0;
    let clicks = 0;
    for (const key of rawKeys(out)) {
      for (const line of gunzipSync(readFileSync(join(out, key)))
        .toString('utf8')
        .trimEnd()
        .split('\n')) {
        let event: { event_type?: string; user_id?: string; item_id?: string };
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        if (event.event_type !== 'click' || typeof event.item_id !== 'string' || !event.user_id) continue;
        clicks++;
        const user = Number(event.user_id.slice(1));
        const artist = Number(event.item_id.slice(1));
        if (artist % summary.groups === user % summary.groups) inGroup++;
      }
    }
    expect(clicks).toBeGreaterThan(100);
    expect(inGroup / clicks).toBeGreaterThan(0.8);
  });
});
