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
 * that learns anything recovers the groups. Planted defects: a fraction of interaction lines are
 * malformed (one of several reasons) and a fraction of valid lines are repeated, mostly within the
 * same object and some in the next hour's object (as Firehose retries do).
 *
 * The feedback loop: every session's five shown artists are also one served list, a
 * `recommendation` line (in an hourly `recommendations-*.gz` object of its own, as the logs'
 * Firehose stream writes them) with descending scores. For most sessions the client then posts
 * `feedback` for each shown artist (in the events object), clicked with probability
 * FEEDBACK_CLICK.base * ((score + 1) / 2)^2 * FEEDBACK_CLICK.decay^(position - 1): rising with the
 * shown score, falling with the position. Some feedback names a request that was never served
 * (unknown_request) or an artist the list did not hold (unknown_item), and some batches are resent
 * whole (the same event ids: repeats the ETL drops).
 *
 * `summary.json` records every count, so a test can check the ETL's conservation exactly:
 *   lines = events + malformed + duplicatesWithinObject + duplicatesAcrossObjects,
 *   loaded lines = events (interactions + recommendations + feedback.items).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { feedbackEventId } from '../../lib/designs/artist-recommender/contracts/events';
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
  /**
   * Distinct valid lines of every kind: what the database holds after loading every object
   * (interaction events, plus `recommendations` and `feedback.items`).
   */
  events: number;
  /** Served lists (`recommendation` lines), and the items they hold. */
  recommendations: number;
  servedItems: number;
  /**
   * Distinct feedback lines (items), those with clicked = true, those planted to match no served
   * item, and the lines resent (counted in the duplicates too).
   */
  feedback: { items: number; clicked: number; unknownRequest: number; unknownItem: number; resent: number };
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

/** The planted click model of the feedback (see the file's comment). */
export const FEEDBACK_CLICK = { base: 0.6, decay: 0.8 } as const;
/** Share of sessions whose client posts feedback, and of those batches that are resent. */
const FEEDBACK_RATE = 0.6;
const FEEDBACK_RESEND_RATE = 0.03;
/** Share of feedback batches that name a request never served, or add an artist not shown. */
const UNKNOWN_REQUEST_RATE = 0.02;
const UNKNOWN_ITEM_RATE = 0.02;
/** Share of served lists written twice into their object (a retried log delivery). */
const SERVED_REPEAT_RATE = 0.01;
const MODEL_VERSION = 'generated-1';

/** Probability that the planted user clicks an item shown at `position` with `score`. */
export function clickProbability(score: number, position: number): number {
  return FEEDBACK_CLICK.base * ((score + 1) / 2) ** 2 * FEEDBACK_CLICK.decay ** (position - 1);
}

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
    recommendations: 0,
    servedItems: 0,
    feedback: { items: 0, clicked: 0, unknownRequest: 0, unknownItem: 0, resent: 0 },
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
      // The served lists and feedback of this hour, with their own random streams: the interaction
      // events and their planted defects stay what they were without them.
      const served: { ts: number; line: string }[] = [];
      const feedback: { ts: number; lines: string[]; resend: boolean }[] = [];
      const defects = rng(seed, 'defects', day, hour);
      const nextCarry: string[] = [];
      for (const [u, s, minute] of buckets[hour]) {
        const r = rng(seed, 'session', u, day, s);
        const group = u % groups;
        const requestId = `req-${u}-${day}-${s}`;
        const variant = createHash('md5').update(`u${u}`).digest()[0] % 10 < 8 ? 'champion' : 'challenger';
        let ts = dayStart + minute * 60_000 + Math.floor(r() * 60_000);
        const servedAt = ts;
        const shown: number[] = [];
        const emit = (event: Record<string, unknown>) => {
          const line = JSON.stringify(event);
          rows.push({ ts: Date.parse(event.ts as string), line });
        };
        for (let i = 0; i < 5; i++) {
          const liked = r() < 0.7;
          const artist = liked ? preferred(group, r) : Math.floor(r() ** 2 * artists);
          shown.push(artist);
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
        const f = rng(seed, 'served', u, day, s);
        // Scores as a model gives them: full-precision doubles in [-1, 1], best first.
        const scores = shown.map(() => f() * 2 - 1).sort((a, b) => b - a);
        const items = shown.map((artist, i) => ({
          artist_id: `a${artist}`,
          position: i + 1,
          score: scores[i],
        }));
        const listLine = JSON.stringify({
          event_type: 'recommendation',
          event_id: requestId,
          request_id: requestId,
          user_id: `u${u}`,
          variant,
          model_version: MODEL_VERSION,
          source: 'cache',
          items,
          ts: new Date(servedAt).toISOString(),
        });
        served.push({ ts: servedAt, line: listLine });
        summary.recommendations++;
        summary.servedItems += items.length;
        summary.events++;
        if (f() < SERVED_REPEAT_RATE) {
          served.push({ ts: servedAt, line: listLine });
          summary.duplicatesWithinObject++;
        }
        if (f() >= FEEDBACK_RATE) continue;
        const sentAt = ts + 5_000 + Math.floor(f() * 115_000);
        const unknownRequest = f() < UNKNOWN_REQUEST_RATE;
        const echoed = f() < 0.9 ? variant : null;
        const answers: { artist: string; clicked: boolean }[] = [];
        for (const item of items) {
          // One answer per artist: a list holding an artist twice gets one feedback for it.
          if (answers.some((a) => a.artist === item.artist_id)) continue;
          answers.push({
            artist: item.artist_id,
            clicked: f() < clickProbability(item.score, item.position),
          });
        }
        if (f() < UNKNOWN_ITEM_RATE) {
          // An artist id outside the catalogue: never in any list.
          answers.push({ artist: `a${artists + Math.floor(f() * 1000)}`, clicked: f() < 0.5 });
          if (!unknownRequest) summary.feedback.unknownItem++;
        }
        const request = unknownRequest ? `req-unserved-${u}-${day}-${s}` : requestId;
        const lines = answers.map(({ artist, clicked }) =>
          JSON.stringify({
            event_type: 'feedback',
            event_id: feedbackEventId(request, artist, clicked),
            request_id: request,
            user_id: `u${u}`,
            artist_id: artist,
            clicked,
            variant: echoed,
            ts: new Date(sentAt).toISOString(),
          }),
        );
        summary.feedback.items += lines.length;
        summary.feedback.clicked += answers.filter((a) => a.clicked).length;
        if (unknownRequest) summary.feedback.unknownRequest += lines.length;
        summary.events += lines.length;
        feedback.push({ ts: sentAt, lines, resend: f() < FEEDBACK_RESEND_RATE });
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
      // Feedback batches after the interactions, in time order; a resent batch lands again in the
      // next hour's object (in this one at the very end of the data).
      feedback.sort((a, b) => a.ts - b.ts || (a.lines[0] < b.lines[0] ? -1 : 1));
      for (const batch of feedback) {
        lines.push(...batch.lines);
        if (!batch.resend) continue;
        summary.feedback.resent += batch.lines.length;
        if (day === options.days - 1 && hour === 23) {
          lines.push(...batch.lines);
          summary.duplicatesWithinObject += batch.lines.length;
        } else {
          nextCarry.push(...batch.lines);
        }
      }
      carry = nextCarry;
      const stamp = new Date(dayStart + hour * 3_600_000);
      const partition = stamp.toISOString().slice(0, 13).replace(/[-T]/g, '/');
      const writeObject = (name: string, objectLines: string[]) => {
        if (objectLines.length === 0) return;
        mkdirSync(join(options.out, 'raw', partition), { recursive: true });
        const text = objectLines.join('\n') + '\n';
        const gz = gzipSync(text);
        write(`raw/${partition}/${name}-${stamp.toISOString().slice(0, 13).replace('T', '-')}.gz`, gz);
        summary.files++;
        summary.lines += objectLines.length;
        summary.bytes.raw += Buffer.byteLength(text);
        summary.bytes.gzip += gz.length;
      };
      writeObject('events', lines);
      served.sort((a, b) => a.ts - b.ts || (a.line < b.line ? -1 : 1));
      writeObject(
        'recommendations',
        served.map((row) => row.line),
      );
    }
  }
  write('summary.json', JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

export type GenerateArgs = Required<Omit<GenerateOptions, 'onWrite'>> & { quiet: boolean };

/**
 * The files a run writes at most: two objects per hour (events and feedback; served lists), the
 * CSV and the summary.
 */
export function maxFiles(days: number): number {
  return days * 48 + 2;
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
