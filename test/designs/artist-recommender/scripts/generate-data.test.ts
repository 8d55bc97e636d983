import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateData, parseGenerateArgs } from '../../../../scripts/artist-recommender/generate-data';
import { HelpShown } from '../../../../scripts/support/cli';
import { rawKeys } from '../support/pipeline';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run data:generate -- ARGS`, spawned with the words package.json gives it. */
function runScript(args: string[]): Promise<Run> {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = scripts['data:generate'].split(/\s+/).slice(1);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, ...words, ...args],
      { cwd: ROOT, timeout: 30_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

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
    for (const key of keys)
      expect(key).toMatch(/^raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/(events|recommendations)-[\d-]+\.gz$/);
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

describe('generate-data: the feedback loop', () => {
  it('plants served lists and feedback whose clicks rise with the score and fall with the position', () => {
    const { out, summary } = generate(9);
    const lists = new Map<string, { artist_id: string; position: number; score: number }[]>();
    const feedback = new Map<string, { request_id: string; artist_id: string; clicked: boolean }>();
    let feedbackLines = 0;
    for (const key of rawKeys(out)) {
      for (const line of gunzipSync(readFileSync(join(out, key)))
        .toString('utf8')
        .trimEnd()
        .split('\n')) {
        if (!line.includes('"event_type":"recommendation"') && !line.includes('"event_type":"feedback"'))
          continue;
        const event = JSON.parse(line);
        if (event.event_type === 'recommendation') {
          expect(key).toMatch(/\/recommendations-/);
          lists.set(event.request_id, event.items);
        } else {
          feedbackLines++;
          feedback.set(event.event_id, event);
        }
      }
    }
    expect(lists.size).toBe(summary.recommendations);
    expect([...lists.values()].reduce((n, items) => n + items.length, 0)).toBe(summary.servedItems);
    expect(feedback.size).toBe(summary.feedback.items);
    // Resent items repeat their event ids.
    expect(feedbackLines - feedback.size).toBe(summary.feedback.resent);
    expect(summary.feedback.resent).toBeGreaterThan(0);

    const unknownRequests = [...feedback.values()].filter((f) => !lists.has(f.request_id));
    expect(unknownRequests.length).toBe(summary.feedback.unknownRequest);
    expect(summary.feedback.unknownRequest).toBeGreaterThan(0);
    const rate = (keep: (item: { position: number; score: number }) => boolean) => {
      let shown = 0;
      let clicked = 0;
      for (const f of feedback.values()) {
        const item = lists.get(f.request_id)?.find((i) => i.artist_id === f.artist_id);
        if (!item || !keep(item)) continue;
        shown++;
        if (f.clicked) clicked++;
      }
      return clicked / shown;
    };
    expect(rate((i) => i.position === 1)).toBeGreaterThan(1.5 * rate((i) => i.position === 5));
    expect(rate((i) => i.score > 0.5)).toBeGreaterThan(2 * rate((i) => i.score < -0.5));
    for (const items of lists.values()) {
      expect(items.map((i) => i.position)).toEqual(items.map((_, i) => i + 1));
      for (let i = 1; i < items.length; i++) expect(items[i].score).toBeLessThanOrEqual(items[i - 1].score);
    }
  });
});

describe('npm run data:generate', () => {
  it('data:generate lists what it wrote and sums it up in one line, and warns of objects it did not write', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-generate-'));
    dirs.push(out);
    const first = await runScript(['--users', '6', '--days', '2', '--out', out, '--quiet']);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    const keys = rawKeys(out);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `wrote ${keys.length + 2} files to ${out}: accounts.csv, ${keys[0]} .. ${keys[keys.length - 1]} ` +
        `(${keys.length} hourly objects), summary.json`,
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { lines: number };
    expect(lines[1]).toMatch(
      new RegExp(
        `^6 accounts; 2 days, 2026-02-27 to 2026-02-28; ${summary.lines.toLocaleString('en-US')} lines = `,
      ),
    );

    // Without --quiet and without a terminal: the progress is one line, then the warning.
    const second = await runScript(['--users', '6', '--days', '1', '--out', out]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(
      /^generate: \d+ files, [\d.]+ MB \(\d+\.\d s[^)]*\)\ndata:generate: warning: .*raw also holds \d+ objects this run did not write/,
    );
  }, 60_000);

  it('data:generate takes --help as help, not as a value, and refuses what it does not know', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(() => parseGenerateArgs(['--help'])).toThrow(HelpShown);
    } finally {
      write.mockRestore();
    }
    expect(() => parseGenerateArgs(['--usres', '5'])).toThrow(
      /unknown option '--usres' \(did you mean --users\?\)/,
    );
    expect(() => parseGenerateArgs(['--groups', '0'])).toThrow(/--groups must be an integer in \[1, /);
    expect(parseGenerateArgs(['--out', 'x'])).toMatchObject({ users: 1000, days: 7, out: 'x', seed: 1 });
  });
});
