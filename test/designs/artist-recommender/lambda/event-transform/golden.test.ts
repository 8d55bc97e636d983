/**
 * Golden files: `test/data/golden/<name>.jsonl` is a raw object; `<name>.clean.jsonl`,
 * `<name>.quarantine.jsonl` and `<name>.counts.json` are what the pure transform must produce.
 * After an intended change, regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyLines } from '../../../../../lambda/artist-recommender/event-transform/classify';
import { splitLines } from '../../../../../lambda/artist-recommender/event-transform/lines';

const DIR = join(__dirname, '..', '..', 'data', 'golden');
const NOW = Date.parse('2026-03-01T12:00:00Z');
const MAX_LINE_BYTES = 600;

async function* chunks(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function* flatten<T>(batches: AsyncIterable<T[]>) {
  for await (const batch of batches) yield* batch;
}

async function run(data: Buffer, chunkSize: number) {
  const clean: string[] = [];
  const quarantine: string[] = [];
  const counts = { input: 0, clean: 0, duplicates: 0, quarantined: 0 };
  const batches = classifyLines(splitLines(chunks(data, chunkSize), MAX_LINE_BYTES), { now: NOW });
  for await (const verdict of flatten(batches)) {
    counts.input++;
    if (verdict.kind === 'clean') {
      counts.clean++;
      clean.push(JSON.stringify(verdict.event));
    } else if (verdict.kind === 'duplicate') {
      counts.duplicates++;
    } else {
      counts.quarantined++;
      quarantine.push(JSON.stringify(verdict.record));
    }
  }
  return {
    clean: clean.map((l) => l + '\n').join(''),
    quarantine: quarantine.map((l) => l + '\n').join(''),
    counts: JSON.stringify(counts, null, 2) + '\n',
  };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The object with LF line ends and no byte order mark: CRLF and lone CR become LF. */
function toLf(data: Buffer): Buffer {
  const body = data.subarray(0, 3).equals(BOM) ? data.subarray(3) : data;
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x0d) {
      out.push(0x0a);
      if (body[i + 1] === 0x0a) i++;
    } else {
      out.push(body[i]);
    }
  }
  return Buffer.from(out);
}

/** The same object with other line ends (bytes 0x0a never occur inside a UTF-8 sequence). */
function withLineEnds(lf: Buffer, eol: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = lf.indexOf(0x0a); i !== -1; i = lf.indexOf(0x0a, start)) {
    parts.push(lf.subarray(start, i), Buffer.from(eol));
    start = i + 1;
  }
  parts.push(lf.subarray(start));
  return Buffer.concat(parts);
}

const names = readdirSync(DIR)
  .filter((f) => /^[a-z0-9-]+\.jsonl$/.test(f))
  .map((f) => f.replace(/\.jsonl$/, ''));

describe('golden transform files', () => {
  it('has golden inputs', () => expect(names.length).toBeGreaterThan(0));

  it.each(names)('%s', async (name) => {
    const input = readFileSync(join(DIR, `${name}.jsonl`));
    const expected = await run(input, 1 << 20);
    const files = {
      clean: join(DIR, `${name}.clean.jsonl`),
      quarantine: join(DIR, `${name}.quarantine.jsonl`),
      counts: join(DIR, `${name}.counts.json`),
    };
    if (process.env.UPDATE_GOLDEN === '1') {
      for (const [kind, file] of Object.entries(files))
        writeFileSync(file, expected[kind as keyof typeof files]);
    }
    for (const [kind, file] of Object.entries(files)) {
      expect(existsSync(file)).toBe(true);
      expect(expected[kind as keyof typeof files]).toBe(readFileSync(file, 'utf8'));
    }
    // Chunk boundaries must not matter: split the same bytes in small odd pieces.
    for (const size of [1, 7, 64]) expect(await run(input, size)).toEqual(expected);
    const counts = JSON.parse(expected.counts);
    expect(counts.input).toBe(counts.clean + counts.duplicates + counts.quarantined);
  });

  it.each(names)('%s: CRLF, lone CR and a byte order mark give the same clean rows as LF', async (name) => {
    const lf = toLf(readFileSync(join(DIR, `${name}.jsonl`)));
    const expected = await run(lf, 1 << 20);
    for (const eol of ['\n', '\r\n', '\r']) {
      for (const bom of [false, true]) {
        const variant = withLineEnds(lf, eol);
        const data = bom ? Buffer.concat([BOM, variant]) : variant;
        for (const size of [1, 2, 7, 1 << 20]) {
          expect({ eol, bom, size, ...(await run(data, size)) }).toEqual({ eol, bom, size, ...expected });
        }
      }
    }
  });
});
