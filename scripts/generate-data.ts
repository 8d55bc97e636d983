/**
 * Sample data for the pipeline: raw events as Firehose writes them (gzip JSON lines, one object per
 * hour under `raw/YYYY/MM/DD/HH/`) and `accounts.csv`, seeded and deterministic.
 *
 *   npm run data:generate -- --users 1000 --days 7 --out .local/data --seed 1
 *     [--end 2026-03-01] [--artists 500] [--groups 8] [--sessions 3]
 *     [--malformed-rate 0.01] [--duplicate-rate 0.01]
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
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { seededRandom } from './support/seeded-random';

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
  writeFileSync(join(options.out, 'accounts.csv'), accounts.join('\n') + '\n');

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
      const dir = join(options.out, 'raw', partition);
      mkdirSync(dir, { recursive: true });
      const text = lines.join('\n') + '\n';
      const gz = gzipSync(text);
      writeFileSync(join(dir, `events-${stamp.toISOString().slice(0, 13).replace('T', '-')}.gz`), gz);
      summary.files++;
      summary.lines += lines.length;
      summary.bytes.raw += Buffer.byteLength(text);
      summary.bytes.gzip += gz.length;
    }
  }
  writeFileSync(join(options.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

function parseArgs(argv: string[]): GenerateOptions {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    values[name] = inline ?? argv[++i];
    if (values[name] === undefined) throw new Error(`--${name} needs a value`);
  }
  const int = (name: string, fallback?: number): number => {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (value === undefined || !Number.isInteger(value) || value < 0)
      throw new Error(`--${name} must be an integer`);
    return value;
  };
  const rate = (name: string, fallback: number): number => {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (!(value >= 0 && value <= 0.5)) throw new Error(`--${name} must be in [0, 0.5]`);
    return value;
  };
  return {
    users: int('users', 1000),
    days: int('days', 7),
    out: values.out ?? '.local/data',
    seed: int('seed', 1),
    end: values.end,
    artists: int('artists', 500),
    groups: int('groups', 8),
    sessions: int('sessions', 3),
    malformedRate: rate('malformed-rate', 0.01),
    duplicateRate: rate('duplicate-rate', 0.01),
  };
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
  try {
    const summary = generateData(parseArgs(process.argv.slice(2)));
    console.log(JSON.stringify(summary, null, 2));
  } catch (error) {
    console.error(`generate-data: ${(error as Error).message}`);
    process.exit(2);
  }
}
