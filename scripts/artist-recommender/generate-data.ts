/**
 * Sample data for the pipeline: raw events as Firehose writes them (gzip JSON lines, one object per
 * hour under `raw/YYYY/MM/DD/HH/`) and `accounts.csv`, seeded and deterministic.
 *
 *   npm run data:generate -- --users 1000 --days 7 --out .local/data --seed 1
 *     [--end 2026-03-01] [--artists 500] [--groups 8] [--sessions 3]
 *     [--malformed-rate 0.01] [--duplicate-rate 0.01]      (--help lists them with their defaults)
 *
 * It prints the files it wrote and a one-line summary of the counts; while it writes, its progress
 * (files written, rate, time left) goes to stderr as scripts/support/progress.ts shows it.
 *
 * Planted structure: users belong to taste groups; each group prefers its own set of artists
 * (artist index % groups == group), and clicks, plays and likes are far likelier on them, so a model
 * that learns anything recovers the groups. Planted defects: a fraction of lines are malformed (one
 * of several reasons) and a fraction of valid lines are repeated, mostly within the same object and
 * some in the next hour's object (as Firehose retries do). `summary.json` records every count, so
 * a test can check the ETL's conservation exactly:
 *   lines = events + malformed + duplicatesWithinObject + duplicatesAcrossObjects,
 *   loaded rows = events.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Cli, EXIT, day, decimal, integer, runMain, text } from '../support/cli';
import { formatCount, Progress } from '../support/progress';
import { seededRandom } from '../support/seeded-random';

export interface GenerateOptions {
  users: number;
  days: number;
  out: string;
  seed: number;
  /** Exclusive end of the data window (UTC midnight); events fall in [end - days, end). */
  end?: string;
  artists?: number;
  groups?: number;
  /** Average sessions per user per day. */
  sessions?: number;
  malformedRate?: number;
  duplicateRate?: number;
  /**
   * Called after each file is written, with its path relative to `out` ('/'-separated) and its
   * size: where a caller lists what was written or shows progress.
   */
  onWrite?: (path: string, bytes: number) => void;
}

export interface GenerateSummary {
  seed: number;
  users: number;
  days: number;
  start: string;
  end: string;
  artists: number;
  groups: number;
  files: number;
  /** Every line written, defects included. */
  lines: number;
  /** Distinct valid events: what the database holds after loading every object. */
  events: number;
  malformed: { total: number; byKind: Record<string, number> };
  duplicatesWithinObject: number;
  duplicatesAcrossObjects: number;
  bytes: { raw: number; gzip: number };
  accounts: number;
}

/** A stream of its own for every (user, day, session), seeded from a hash of them. */
function rng(...parts: (string | number)[]): () => number {
  return seededRandom(createHash('sha256').update(parts.join('|')).digest().readUInt32LE(0));
}

const COUNTRIES: Record<string, Record<string, string[]>> = {
  us: {
    ca: ['San Francisco', 'Los Angeles', 'Fresno'],
    ny: ['New York', 'Buffalo'],
    tx: ['Austin', 'Houston'],
  },
  de: { be: ['Berlin'], by: ['Munich', 'Nuremberg'] },
  br: { sp: ['São Paulo', 'Campinas'], rj: ['Rio de Janeiro'] },
  jp: { '13': ['Tokyo'], '27': ['Osaka'] },
  is: { '1': ['Reykjavík'] },
};

const MALFORMED_KINDS = [
  'invalid_json',
  'unknown_event_type',
  'missing_field',
  'wrong_type',
  'future_timestamp',
  'invalid_timestamp',
] as const;

function malformed(
  kind: (typeof MALFORMED_KINDS)[number],
  event: Record<string, unknown>,
  end: number,
): string {
  switch (kind) {
    case 'invalid_json':
      return JSON.stringify(event).slice(0, 40);
    case 'unknown_event_type':
      return JSON.stringify({ ...event, event_type: 'purchase' });
    case 'missing_field': {
      const copy = { ...event };
      delete copy.user_id;
      return JSON.stringify(copy);
    }
    case 'wrong_type':
      return JSON.stringify({ ...event, item_id: 12345 });
    case 'future_timestamp':
      return JSON.stringify({ ...event, ts: new Date(end + 86_400_000).toISOString() });
    case 'invalid_timestamp':
      return JSON.stringify({ ...event, ts: 'yesterday' });
  }
}

export function generateData(options: GenerateOptions): GenerateSummary {
  const end = Date.parse(`${options.end ?? '2026-03-01'}T00:00:00Z`);
  if (Number.isNaN(end)) throw new Error('--end must be YYYY-MM-DD');
  const artists = options.artists ?? 500;
  const groups = options.groups ?? 8;
  const sessionsPerDay = options.sessions ?? 3;
  const malformedRate = options.malformedRate ?? 0.01;
  const duplicateRate = options.duplicateRate ?? 0.01;
  const start = end - options.days * 86_400_000;
  const seed = options.seed;
  const summary: GenerateSummary = {
    seed,
    users: options.users,
    days: options.days,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    artists,
    groups,
    files: 0,
    lines: 0,
    events: 0,
    malformed: { total: 0, byKind: {} },
    duplicatesWithinObject: 0,
    duplicatesAcrossObjects: 0,
    bytes: { raw: 0, gzip: 0 },
    accounts: options.users,
  };
  mkdirSync(options.out, { recursive: true });

  // Accounts: skewed towards the first country, state and city, with a few missing values.
  const accounts = ['user_id,date_of_birth,city,state,country,created_at'];
  for (let u = 0; u < options.users; u++) {
    const r = rng(seed, 'account', u);
    const pick = <T>(values: T[]): T => values[Math.floor(r() ** 1.5 * values.length)];
    const country = pick(Object.keys(COUNTRIES));
    const state = pick(Object.keys(COUNTRIES[country]));
    const city = pick(COUNTRIES[country][state]);
    const year = 1950 + Math.floor(r() * 58);
    const dob =
      r() < 0.03
        ? ''
        : `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    accounts.push(
      [
        `u${u}`,
        dob,
        r() < 0.05 ? '' : city,
        state,
        country,
        new Date(start - 86_400_000 * (1 + Math.floor(r() * 900))).toISOString(),
      ]
        .map(quote)
        .join(','),
    );
  }
  const write = (path: string, data: string | Buffer) => {
    writeFileSync(join(options.out, ...path.split('/')), data);
    options.onWrite?.(path, Buffer.byteLength(data));
  };
  write('accounts.csv', accounts.join('\n') + '\n');

  const preferred = (group: number, r: () => number) => {
    const perGroup = Math.max(1, Math.floor(artists / groups));
    return (Math.floor(r() * perGroup) * groups + group) % artists;
  };
  let carry: string[] = [];
  let eventSeq = 0;
  for (let day = 0; day < options.days; day++) {
    const dayStart = start + day * 86_400_000;
    // Session start times of every user this day, bucketed by hour.
    const buckets: [number, number, number][][] = Array.from({ length: 24 }, () => []);
    for (let u = 0; u < options.users; u++) {
      const r = rng(seed, 'sessions', u, day);
      const count = Math.floor(r() * (2 * sessionsPerDay + 1));
      for (let s = 0; s < count; s++) {
        const minute = Math.floor(r() * (24 * 60 - 20));
        buckets[Math.floor(minute / 60)].push([u, s, minute]);
      }
    }
    for (let hour = 0; hour < 24; hour++) {
      const rows: { ts: number; line: string }[] = [];
      const defects = rng(seed, 'defects', day, hour);
      const nextCarry: string[] = [];
      for (const [u, s, minute] of buckets[hour]) {
        const r = rng(seed, 'session', u, day, s);
        const group = u % groups;
        const requestId = `req-${u}-${day}-${s}`;
        const variant = createHash('md5').update(`u${u}`).digest()[0] % 10 < 8 ? 'champion' : 'challenger';
        let ts = dayStart + minute * 60_000 + Math.floor(r() * 60_000);
        const emit = (event: Record<string, unknown>) => {
          const line = JSON.stringify(event);
          rows.push({ ts: Date.parse(event.ts as string), line });
        };
        for (let i = 0; i < 5; i++) {
          const liked = r() < 0.7;
          const artist = liked ? preferred(group, r) : Math.floor(r() ** 2 * artists);
          const base = { user_id: `u${u}`, request_id: requestId, variant };
          ts += Math.floor(r() * 20_000);
          emit({
            event_id: `e${seed}-${eventSeq++}`,
            ...base,
            event_type: 'impression',
            item_type: 'artist',
            item_id: `a${artist}`,
            ts: new Date(ts).toISOString(),
          });
          if (r() < (liked ? 0.35 : 0.04)) {
            ts += Math.floor(r() * 30_000);
            emit({
              event_id: `e${seed}-${eventSeq++}`,
              ...base,
              event_type: 'click',
              item_type: 'artist',
              item_id: `a${artist}`,
              ts: new Date(ts).toISOString(),
            });
            if (r() < 0.6) {
              ts += Math.floor(r() * 60_000);
              emit({
                event_id: `e${seed}-${eventSeq++}`,
                ...base,
                event_type: 'play',
                item_type: 'song',
                item_id: `s${artist}-${Math.floor(r() * 10)}`,
                artist_ids: [`a${artist}`],
                ts: new Date(ts).toISOString(),
              });
            }
            if (r() < 0.15) {
              ts += Math.floor(r() * 10_000);
              emit({
                event_id: `e${seed}-${eventSeq++}`,
                ...base,
                event_type: 'like',
                item_type: 'artist',
                item_id: `a${artist}`,
                ts: new Date(ts).toISOString(),
              });
            }
          }
        }
      }
      rows.sort((a, b) => a.ts - b.ts || (a.line < b.line ? -1 : 1));
      const lines: string[] = [...carry];
      summary.duplicatesAcrossObjects += carry.length;
      for (const row of rows) {
        const roll = defects();
        if (roll < malformedRate) {
          const kind = MALFORMED_KINDS[Math.floor(defects() * MALFORMED_KINDS.length)];
          lines.push(malformed(kind, JSON.parse(row.line), end));
          summary.malformed.total++;
          summary.malformed.byKind[kind] = (summary.malformed.byKind[kind] ?? 0) + 1;
          continue;
        }
        lines.push(row.line);
        summary.events++;
        if (roll < malformedRate + duplicateRate) {
          // Three in four repeats land in the same object, the rest in the next hour's.
          if (defects() < 0.75 || (day === options.days - 1 && hour === 23)) {
            lines.push(row.line);
            summary.duplicatesWithinObject++;
          } else {
            nextCarry.push(row.line);
          }
        }
      }
      carry = nextCarry;
      if (lines.length === 0) continue;
      const stamp = new Date(dayStart + hour * 3_600_000);
      const partition = stamp.toISOString().slice(0, 13).replace(/[-T]/g, '/');
      mkdirSync(join(options.out, 'raw', partition), { recursive: true });
      const text = lines.join('\n') + '\n';
      const gz = gzipSync(text);
      write(`raw/${partition}/events-${stamp.toISOString().slice(0, 13).replace('T', '-')}.gz`, gz);
      summary.files++;
      summary.lines += lines.length;
      summary.bytes.raw += Buffer.byteLength(text);
      summary.bytes.gzip += gz.length;
    }
  }
  write('summary.json', JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

export type GenerateArgs = Required<Omit<GenerateOptions, 'onWrite'>> & { quiet: boolean };

/** The files a run writes at most: one object per hour of events, the CSV and the summary. */
export function maxFiles(days: number): number {
  return days * 24 + 2;
}

/** The command line of `npm run data:generate`. */
export function generateCli(): Cli {
  return new Cli({
    name: 'data:generate',
    usage: 'npm run data:generate --',
    description:
      'Writes seeded sample data: raw events as Firehose writes them (gzip JSON lines, one object per hour ' +
      'under raw/YYYY/MM/DD/HH/), accounts.csv, and summary.json with every count.',
    notes: [
      'Example:',
      '  npm run data:generate -- --users 1000 --days 7 --out .local/data --seed 1',
      '',
      'The same options write the same bytes. Write into an empty directory: objects of an earlier run',
      'with other options stay beside the new ones (the command warns when it sees some).',
    ].join('\n'),
  })
    .option('--users <count>', 'users (and accounts) to generate', integer(1, 10_000_000), 1000)
    .option('--days <count>', 'days of events, ending the day before --end', integer(1, 3660), 7)
    .option('--out <dir>', 'directory to write into (created if missing)', text('a directory'), '.local/data')
    .option('--seed <n>', 'random seed', integer(0, 2 ** 31), 1)
    .option('--end <YYYY-MM-DD>', 'exclusive end of the data window (UTC midnight)', day(), '2026-03-01')
    .option('--artists <count>', 'artists in the catalogue', integer(1, 1_000_000), 500)
    .option('--groups <count>', 'taste groups users belong to', integer(1, 10_000), 8)
    .option('--sessions <count>', 'average sessions per user per day', integer(0, 100), 3)
    .option('--malformed-rate <rate>', 'share of lines written malformed', decimal(0, 0.5), 0.01)
    .option('--duplicate-rate <rate>', 'share of valid lines written twice', decimal(0, 0.5), 0.01)
    .quietFlag();
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  return generateCli().parse<GenerateArgs>(argv);
}

/** The paths written, as one line: the CSV, the first and last raw object, the summary. */
export function describeWritten(out: string, written: readonly string[]): string {
  const raw = written.filter((path) => path.startsWith('raw/'));
  const others = written.filter((path) => !path.startsWith('raw/'));
  const objects =
    raw.length === 0
      ? []
      : raw.length === 1
        ? raw
        : [`${raw[0]} .. ${raw[raw.length - 1]} (${raw.length} hourly objects)`];
  return `wrote ${written.length} files to ${out}: ${[...others.slice(0, 1), ...objects, ...others.slice(1)].join(', ')}`;
}

/** The counts of a run, as one line. */
export function describeSummary(summary: GenerateSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const size = (bytes: number) =>
    bytes < 1_000_000 ? `${(bytes / 1000).toFixed(1)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`;
  const duplicates = summary.duplicatesWithinObject + summary.duplicatesAcrossObjects;
  const last = new Date(Date.parse(summary.end) - 86_400_000).toISOString().slice(0, 10);
  return (
    `${n(summary.accounts)} accounts; ${summary.days} day${summary.days === 1 ? '' : 's'}, ${summary.start.slice(0, 10)} to ${last}; ` +
    `${n(summary.lines)} lines = ${n(summary.events)} events + ${n(summary.malformed.total)} malformed + ` +
    `${n(duplicates)} duplicates; ${size(summary.bytes.gzip)} gzip (${size(summary.bytes.raw)} raw); seed ${summary.seed}`
  );
}

/** Every raw object a generated data set holds under `dataDir/raw`, relative to `dataDir`, in name order. */
export function rawKeys(dataDir: string): string[] {
  const keys: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.gz')) keys.push(relative(dataDir, path));
    }
  };
  walk(join(dataDir, 'raw'));
  return keys;
}

if (require.main === module) {
  runMain('data:generate', async () => {
    const { quiet, ...options } = parseGenerateArgs(process.argv.slice(2));
    const written: string[] = [];
    let bytes = 0;
    // Hours without an event write no object: the total is an upper bound.
    const summary = await new Progress({ quiet }).track(
      'generate',
      { total: maxFiles(options.days), unit: 'files' },
      (stage) =>
        generateData({
          ...options,
          onWrite: (path, size) => {
            written.push(path);
            bytes += size;
            stage.add();
          },
        }),
      () => `${written.length} files, ${formatCount(bytes, 'bytes')}`,
    );
    console.log(describeWritten(options.out, written));
    console.log(describeSummary(summary));
    const stale = rawKeys(options.out).filter((key) => !written.includes(key.split(sep).join('/')));
    if (stale.length > 0) {
      console.error(
        `data:generate: warning: ${join(options.out, 'raw')} also holds ${stale.length} objects this run did ` +
          `not write (an earlier run?), e.g. ${stale[0]}: delete ${options.out} and rerun before uploading it`,
      );
    }
    return EXIT.ok;
  });
}
