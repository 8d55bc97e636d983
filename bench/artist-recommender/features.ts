/**
 * `npm run bench:features -- [--json] [--check] [--sizes 1000000,10000000,30000000]
 *   [--postgres-max N] [--users-per-event R]`: the feature build's cost against the event count,
 * on both engines, side by side.
 *
 * For each size, in a fresh process per engine (so one run's memory is not the next one's):
 * - PostgreSQL: every `sql/artist-recommender/features/*.sql` on a local server (`buildFeatures`),
 *   the path a design below the threshold runs on the account database;
 * - the lake's local engine (DuckDB): the event-side outputs of `sql/artist-recommender/lake/`
 *   (top artists, top songs, labels, unmatched feedback, interaction counts), written as Athena's
 *   UNLOAD writes them, over the same events in Parquet.
 * The population is the same rows in both (`./feature-population.ts`), created before
 * the clock starts. Peak memory is the engine's: DuckDB's process, PostgreSQL's server processes
 * (their proportional set size, so shared buffers count once).
 *
 * Then the growth exponent (least squares of log time on log events) per engine, and what Athena
 * would bill per run: the compressed bytes of the columns each query reads, for each time it reads
 * a table, at $5 per TB with a 10 MB minimum per query.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { LocalLake } from '../../lambda/artist-recommender/lake/duckdb';
import { readLakeQuery, type LakeOutput } from '../../lambda/artist-recommender/lake/queries';
import { LAKE_COLUMNS } from '../../lambda/artist-recommender/lake/schema';
import { buildFeatures } from '../../lambda/artist-recommender/features/build';
import { migrate, readMigrations } from '../../lambda/platform/db-migrate/migrate';
import { startPostgres } from '../../test/support/postgres';
import { Cli, EXIT, integer, oneOf, runMain, text } from '../../scripts/support/cli';
import { ATHENA_PRICE, FEATURE_ENGINE_TARGETS } from '../../lib/platform/config/feature-engine';
import { POPULATION_END, populateLake, populatePostgres } from './feature-population';

const ROOT = join(__dirname, '..', '..');
const SQL = join(ROOT, 'sql', 'artist-recommender');
const OUT = join(ROOT, '.bench', 'features');
const AS_OF = new Date(POPULATION_END);
const HALF_LIFE_DAYS = 14;
const EVENT_OUTPUTS: LakeOutput[] = [
  'features/top_artists',
  'features/top_songs',
  'features/feedback_labels',
  'features/unmatched_feedback',
  'features/interactions',
];

type Engine = 'postgres' | 'lake';

interface Run {
  engine: Engine;
  events: number;
  users: number;
  seconds: number;
  peakMemoryMB: number;
  /** Lake only: what Athena would scan and bill for this run. */
  athena?: { scannedMB: number; dollars: number };
}

interface Args {
  json: boolean;
  check: boolean;
  sizes: string;
  postgresMax: number;
  eventsPerUser: number;
  worker: Engine | 'none';
  events: number;
}

function cli(): Cli {
  return new Cli({
    name: 'bench:features',
    usage: 'npm run bench:features --',
    description:
      'Feature build time and peak memory against the event count, PostgreSQL next to the lake engine (DuckDB), ' +
      'with the fitted growth exponent and the Athena cost per run.',
    notes: [
      `Targets: lake growth exponent <= ${FEATURE_ENGINE_TARGETS.maxGrowthExponent}, 10M events in <= ${FEATURE_ENGINE_TARGETS.maxSecondsAt10M} s.`,
      'Writes its work files under .bench/features/ (replaced on every run). Needs PostgreSQL server binaries.',
    ].join('\n'),
    exitCodes: { 1: 'the bench failed, or (with --check) a target was missed' },
  })
    .flag('--json', 'print the results as JSON instead of the table')
    .flag('--check', 'exit 1 when a target is missed')
    .option('--sizes <list>', 'event counts, comma-separated', text('counts'), '1000000,10000000,30000000')
    .option(
      '--postgres-max <count>',
      'largest size PostgreSQL runs (it grows faster than the work)',
      integer(0, 1e9),
      10_000_000,
    )
    .option('--events-per-user <count>', 'events per user of the population', integer(1, 100_000), 100)
    .option(
      '--worker <engine>',
      '(internal) run one engine at one size and print its result; none: run every size',
      oneOf(['none', 'postgres', 'lake'] as const),
      'none',
    )
    .option('--events <count>', '(internal) the worker run size', integer(1, 1e9), 1_000_000);
}

/** Proportional set size of a process and its children, in bytes (Linux). */
function pssOfTree(root: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) !== root && ppid !== root) continue;
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8'));
      total += Number(pss?.[1] ?? 0) * 1024;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** Samples `measure` every 100 ms while `work` runs; returns its result, the time and the peak. */
async function measured<T>(
  measure: () => number,
  work: () => Promise<T>,
): Promise<{ value: T; seconds: number; peak: number }> {
  let peak = measure();
  const timer = setInterval(() => (peak = Math.max(peak, measure())), 100);
  const began = performance.now();
  try {
    const value = await work();
    return { value, seconds: (performance.now() - began) / 1000, peak: Math.max(peak, measure()) };
  } finally {
    clearInterval(timer);
  }
}

/** Compressed bytes per column of a table's Parquet files. */
async function columnBytes(lake: LocalLake, table: 'events'): Promise<Map<string, number>> {
  const rows = await lake.select(
    `SELECT path_in_schema AS col, sum(total_compressed_size) AS bytes
       FROM parquet_metadata('${lake.tableDir(table)}/*/*.parquet') GROUP BY 1`,
  );
  // A list column's leaf is `artist_ids.list.element`: bill it to `artist_ids`.
  const bytes = new Map<string, number>();
  for (const r of rows) {
    const col = String(r.col).split(/[.,]/)[0];
    bytes.set(col, (bytes.get(col) ?? 0) + Number(r.bytes));
  }
  return bytes;
}

/**
 * What Athena bills for one query: each read of `events` scans the columns the query names (Parquet
 * is columnar), at least 10 MB per query. https://aws.amazon.com/athena/pricing/
 */
function athenaScan(sql: string, columns: Map<string, number>): number {
  const reads = (sql.match(/\b(FROM|JOIN)\s+events\b/g) ?? []).length;
  const used = Object.keys(LAKE_COLUMNS.events).filter((c) => new RegExp(`\\b${c}\\b`).test(sql));
  const perRead = used.reduce((sum, c) => sum + (columns.get(c) ?? 0), 0);
  return Math.max(reads * perRead, ATHENA_PRICE.minimumBytesPerQuery);
}

async function worker(engine: Engine, events: number, users: number): Promise<Run> {
  const dir = join(OUT, `${engine}-${events}`);
  rmSync(dir, { recursive: true, force: true });
  if (engine === 'lake') {
    const lake = await LocalLake.open(dir, join(SQL, 'lake'));
    try {
      await populateLake(lake, events, users);
      const params = { asOf: AS_OF, halfLifeDays: HALF_LIFE_DAYS };
      const run = await measured(
        () => process.memoryUsage().rss,
        async () => {
          for (const output of EVENT_OUTPUTS) await lake.unload(output, params, join(dir, 'out', output));
        },
      );
      const columns = await columnBytes(lake, 'events');
      const scanned = EVENT_OUTPUTS.reduce(
        (sum, o) => sum + athenaScan(readLakeQuery(join(SQL, 'lake'), o), columns),
        0,
      );
      return {
        engine,
        events,
        users,
        seconds: run.seconds,
        peakMemoryMB: run.peak / 1e6,
        athena: { scannedMB: scanned / 1e6, dollars: (scanned / 1e12) * ATHENA_PRICE.dollarsPerTB },
      };
    } finally {
      lake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const pg = await startPostgres();
  const client = new Client(await pg.createDatabase('features'));
  try {
    await client.connect();
    await migrate(client, readMigrations(join(SQL, 'migrations')));
    await populatePostgres(client, events, users);
    // The server's first process: the first line of postmaster.pid in its data directory.
    const dataDir = String((await client.query('SHOW data_directory')).rows[0].data_directory);
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const run = await measured(
      () => pssOfTree(pid),
      () =>
        buildFeatures(client, join(SQL, 'features'), { asOf: AS_OF, k: 10, halfLifeDays: HALF_LIFE_DAYS }),
    );
    return { engine, events, users, seconds: run.seconds, peakMemoryMB: run.peak / 1e6 };
  } finally {
    await client.end().catch(() => undefined);
    pg.stop();
  }
}

/** Runs one engine at one size in a child process, so its memory starts from nothing. */
function runWorker(engine: Engine, events: number, eventsPerUser: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        __filename,
        '--worker',
        engine,
        '--events',
        String(events),
        '--events-per-user',
        String(eventsPerUser),
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the ${engine} run at ${events} events exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() as string) as Run);
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Least-squares slope of log(seconds) on log(events): 1 is linear. */
export function growthExponent(runs: readonly Pick<Run, 'events' | 'seconds'>[]): number | null {
  if (runs.length < 2) return null;
  const xs = runs.map((r) => Math.log(r.events));
  const ys = runs.map((r) => Math.log(r.seconds));
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  const num = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  return num / den;
}

async function main(): Promise<number> {
  const args = cli().parse<Args>(process.argv.slice(2));
  if (args.worker !== 'none') {
    const run = await worker(
      args.worker,
      args.events,
      Math.max(1, Math.round(args.events / args.eventsPerUser)),
    );
    process.stdout.write(JSON.stringify(run) + '\n');
    return EXIT.ok;
  }
  const sizes = args.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1000))
    throw new Error('--sizes: whole event counts of at least 1000');
  rmSync(OUT, { recursive: true, force: true });
  const runs: Run[] = [];
  for (const events of sizes) {
    for (const engine of ['lake', 'postgres'] as const) {
      if (engine === 'postgres' && events > args.postgresMax) continue;
      process.stderr.write(`${engine} ${events.toLocaleString('en-US')} events ...\n`);
      runs.push(await runWorker(engine, events, args.eventsPerUser));
    }
  }
  const of = (engine: Engine) => runs.filter((r) => r.engine === engine);
  const at10M = of('lake').find((r) => r.events === 10_000_000);
  const exponents = { lake: growthExponent(of('lake')), postgres: growthExponent(of('postgres')) };
  const checks = {
    lakeGrowthExponent: exponents.lake !== null && exponents.lake <= FEATURE_ENGINE_TARGETS.maxGrowthExponent,
    lakeSecondsAt10M: at10M === undefined ? null : at10M.seconds <= FEATURE_ENGINE_TARGETS.maxSecondsAt10M,
  };
  const result = { machine: { cpus: cpus().length, model: cpus()[0]?.model }, runs, exponents, checks };
  if (args.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    const lines = [
      '| events | PostgreSQL s | PostgreSQL peak MB | lake s | lake peak MB | PostgreSQL / lake | Athena scanned MB | Athena $ per run |',
      '|---|---|---|---|---|---|---|---|',
    ];
    for (const events of sizes) {
      const p = of('postgres').find((r) => r.events === events);
      const l = of('lake').find((r) => r.events === events);
      lines.push(
        `| ${events.toLocaleString('en-US')} | ${p ? p.seconds.toFixed(1) : '-'} | ${p ? p.peakMemoryMB.toFixed(0) : '-'} | ` +
          `${l ? l.seconds.toFixed(1) : '-'} | ${l ? l.peakMemoryMB.toFixed(0) : '-'} | ` +
          `${p && l ? (p.seconds / l.seconds).toFixed(1) + 'x' : '-'} | ${l?.athena ? l.athena.scannedMB.toFixed(0) : '-'} | ` +
          `${l?.athena ? l.athena.dollars.toFixed(4) : '-'} |`,
      );
    }
    const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(2));
    lines.push(
      '',
      `growth exponent (time ~ events^b): PostgreSQL ${fmt(exponents.postgres)}, lake ${fmt(exponents.lake)}` +
        ` (target <= ${FEATURE_ENGINE_TARGETS.maxGrowthExponent}: ${checks.lakeGrowthExponent ? 'met' : 'MISSED'})`,
    );
    if (at10M)
      lines.push(
        `lake at 10M events: ${at10M.seconds.toFixed(1)} s (target <= ${FEATURE_ENGINE_TARGETS.maxSecondsAt10M} s: ${checks.lakeSecondsAt10M ? 'met' : 'MISSED'})`,
      );
    lines.push(`machine: ${result.machine.cpus} cores, ${String(result.machine.model)}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  const missed = Object.values(checks).some((v) => v === false);
  return args.check && missed ? EXIT.failed : EXIT.ok;
}

if (require.main === module) runMain('bench:features', main);
