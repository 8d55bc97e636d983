/**
 * The two feature engines on the same generated data: the PostgreSQL path (transform + load into
 * the account database, sql/artist-recommender/features, snapshot/export.ts) and the distributed
 * path run locally (transform to staged lines, the lake's load queries on DuckDB, the lake SQL,
 * snapshot/lake-export.ts). Both must build the same features and the same snapshot.
 */
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { migrate, readMigrations } from '../../../../lambda/platform/db-migrate/migrate';
import { buildFeatures } from '../../../../lambda/artist-recommender/features/build';
import { profilesCsv } from '../../../../lambda/artist-recommender/features/profiles';
import {
  exportSnapshot,
  FEATURES_FILE,
  SNAPSHOT_FILES,
} from '../../../../lambda/artist-recommender/snapshot/export';
import { exportLakeSnapshot } from '../../../../lambda/artist-recommender/snapshot/lake-export';
import { LocalLake, outputLines } from '../../../../lambda/artist-recommender/lake/duckdb';
import { LAKE_OUTPUTS, type LakeOutput } from '../../../../lambda/artist-recommender/lake/queries';
import { generateData } from '../../../../scripts/artist-recommender/generate-data';
import { loadAccountsCsv, rawKeys, transformDirectory } from '../support/pipeline';
import { startPostgres, type LocalPostgres } from '../../../support/postgres';

const SQL = join(__dirname, '..', '..', '..', '..', 'sql', 'artist-recommender');
const END = '2026-03-01';
const NOW = Date.parse(`${END}T00:00:00Z`);
const AS_OF = new Date(NOW);
const CUTOFF = new Date(NOW - 2 * 86_400_000);
const PARAMS = { asOf: AS_OF, k: 3, halfLifeDays: 14 };

let pg: LocalPostgres;
let db: Client;
let lake: LocalLake;
let work: string;
let keys: string[];
let data: string;

/** Stages every raw object through the real handler (S3 mocked) and writes the staged objects into the lake. */
async function stageInto(target: LocalLake, objects: string[]): Promise<Set<string>> {
  const run = await transformDirectory(
    data,
    objects,
    { EVENT_STORE: 'lake', LAKE_BUCKET: 'lake', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    NOW,
  );
  const days = new Set<string>();
  let n = 0;
  for (const [key, body] of run.quarantine) {
    const match = /^staging\/(\w+)\/day=(\d{4}-\d{2}-\d{2})\/(.+)$/.exec(key);
    if (!match) continue;
    days.add(match[2]);
    const path = join(target.stagingDir(match[2], match[1] as 'events'), `${n++}-${match[3]}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }
  return days;
}

const sorted = (text: string): string[] => {
  const [header, ...rows] = text.trimEnd().split('\n');
  return [header, ...rows.sort()];
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lake-parity-'));
  data = join(work, 'data');
  generateData({
    users: 200,
    days: 5,
    out: data,
    seed: 23,
    end: END,
    malformedRate: 0.01,
    duplicateRate: 0.03,
  });
  keys = rawKeys(data);
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('parity'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  await loadAccountsCsv(db, join(data, 'accounts.csv'));
  await transformDirectory(data, keys, { ...pg.env('parity'), POWERTOOLS_LOG_LEVEL: 'ERROR' }, NOW);
  await buildFeatures(db, join(SQL, 'features'), PARAMS);

  lake = await LocalLake.open(join(work, 'lake'), join(SQL, 'lake'));
  for (const day of await stageInto(lake, keys)) await lake.load(day);
  mkdirSync(lake.profilesDir, { recursive: true });
  await pipeline(profilesCsv(db), createWriteStream(join(lake.profilesDir, 'profiles.csv')));
  await lake.refresh();
}, 120_000);

afterAll(async () => {
  lake?.close();
  await db?.end();
  pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function pgRows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.query(sql)).rows;
}

/** Within 1e-9 relative: the engines sum the same doubles in different orders. */
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Top lists agree when, per user, the scores rank by rank agree within rounding and the items
 * agree wherever the scores are not a rounding-level tie.
 */
function expectSameTopLists(
  pgList: Record<string, unknown>[],
  lakeList: Record<string, unknown>[],
  item: string,
) {
  const key = (r: Record<string, unknown>) => `${String(r.user_id)}\n${String(r.rank)}`;
  const lakeByKey = new Map(lakeList.map((r) => [key(r), r]));
  expect(lakeList).toHaveLength(pgList.length);
  const scoreOf = new Map(pgList.map((r) => [`${String(r.user_id)}\n${String(r[item])}`, Number(r.score)]));
  for (const p of pgList) {
    const l = lakeByKey.get(key(p));
    expect(l).toBeDefined();
    expect(close(Number(l?.score), Number(p.score))).toBe(true);
    if (l?.[item] !== p[item]) {
      const other = scoreOf.get(`${String(p.user_id)}\n${String(l?.[item])}`);
      expect(other !== undefined && close(other, Number(p.score))).toBe(true);
    }
  }
}

describe('the distributed path builds what the PostgreSQL path builds', () => {
  it('loads every staged line once, and a second load of the same objects adds nothing', async () => {
    const [events, served, fb] = await Promise.all(
      ['events', 'served_items', 'feedback'].map(async (t) =>
        Number((await pgRows(`SELECT count(*) AS n FROM ${t}`))[0].n),
      ),
    );
    const counts = await lake.select(
      `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM served_items) AS served,
              (SELECT count(*) FROM feedback) AS feedback,
              (SELECT count(DISTINCT event_id) FROM events) AS distinct_events`,
    );
    expect(counts[0]).toEqual({ events, served, feedback: fb, distinct_events: events });
    expect(events).toBeGreaterThan(1000);
    expect(served).toBeGreaterThan(100);
    expect(fb).toBeGreaterThan(10);

    const again = await LocalLake.open(lake.root, lake.sqlDir);
    try {
      rmSync(join(lake.root, 'staging'), { recursive: true, force: true });
      const days = await stageInto(again, keys.slice(-3));
      for (const day of days)
        expect(await again.load(day)).toEqual({ events: 0, served_items: 0, feedback: 0 });
    } finally {
      again.close();
    }
  });

  it('ranks the same top artists and songs', async () => {
    for (const [output, table, item] of [
      ['features/top_artists', 'feature_user_top_artists', 'artist_id'],
      ['features/top_songs', 'feature_user_top_songs', 'song_id'],
    ] as const) {
      const pgList = await pgRows(`SELECT user_id, rank, ${item}, score FROM ${table}`);
      expect(pgList.length).toBeGreaterThan(100);
      expectSameTopLists(pgList, await lake.rows(output, PARAMS), item);
    }
  });

  it('labels the same served items, flags the same unmatched feedback and counts the same interactions', async () => {
    const byKey = (rows: Record<string, unknown>[], ...key: string[]) =>
      rows.map((r) => key.map((k) => String(r[k])).join('|')).sort();
    const labels = await pgRows(
      `SELECT request_id, position, user_id, artist_id, variant, model_version, source, score, clicked,
              (extract(epoch FROM ts) * 1000)::bigint AS ts_ms FROM feature_feedback_labels`,
    );
    const columns = [
      'request_id',
      'position',
      'user_id',
      'artist_id',
      'variant',
      'model_version',
      'source',
      'clicked',
      'ts_ms',
    ];
    const lakeLabels = await lake.rows('features/feedback_labels', PARAMS);
    expect(byKey(lakeLabels, ...columns)).toEqual(byKey(labels, ...columns));
    expect(labels.some((r) => Number(r.clicked) === 1) && labels.some((r) => Number(r.clicked) === 0)).toBe(
      true,
    );

    const unmatched = await pgRows(
      'SELECT event_id, request_id, artist_id, clicked, reason FROM feature_unmatched_feedback',
    );
    expect(byKey(await lake.rows('features/unmatched_feedback', PARAMS), 'event_id', 'reason')).toEqual(
      byKey(unmatched, 'event_id', 'reason'),
    );

    const counts = [
      'user_id',
      'impressions',
      'clicks',
      'plays',
      'likes',
      'positives',
      'negatives',
      'last_event_ms',
    ];
    const interactions = await pgRows(
      `SELECT user_id, impressions, clicks, plays, likes, positives, negatives,
              (extract(epoch FROM last_event_at) * 1000)::bigint AS last_event_ms FROM feature_user_interactions`,
    );
    expect(byKey(await lake.rows('features/interactions', PARAMS), ...counts)).toEqual(
      byKey(interactions, ...counts),
    );
  });

  it('writes the same training snapshot', async () => {
    const pgDir = join(work, 'snapshot-pg');
    const lakeDir = join(work, 'snapshot-lake');
    const outputs = join(work, 'outputs');
    const pgManifest = await exportSnapshot(db, pgDir, { cutoff: CUTOFF, validationEnd: AS_OF, k: PARAMS.k });
    for (const output of LAKE_OUTPUTS) {
      await lake.unload(output, { ...PARAMS, cutoff: CUTOFF }, join(outputs, output));
    }
    const lakeManifest = await exportLakeSnapshot(
      db,
      (output: LakeOutput) => outputLines(join(outputs, output)),
      lakeDir,
      { cutoff: CUTOFF, asOf: AS_OF, k: PARAMS.k },
    );

    for (const file of [SNAPSHOT_FILES.train, SNAPSHOT_FILES.validation, SNAPSHOT_FILES.users]) {
      expect(sorted(readFileSync(join(lakeDir, file), 'utf8'))).toEqual(
        sorted(readFileSync(join(pgDir, file), 'utf8')),
      );
    }
    // Scores are written as each engine prints a double: compare them as numbers.
    for (const file of [SNAPSHOT_FILES.trainFeedback, SNAPSHOT_FILES.validationFeedback]) {
      const parse = (text: string) => {
        const [header, ...lines] = sorted(text);
        return [
          header,
          ...lines.map((line) =>
            line
              .split(',')
              .map((v, i) => (i === 4 ? String(Number(v)) : v))
              .join(','),
          ),
        ];
      };
      expect(parse(readFileSync(join(lakeDir, file), 'utf8'))).toEqual(
        parse(readFileSync(join(pgDir, file), 'utf8')),
      );
    }
    const records = (dir: string) =>
      readFileSync(join(dir, FEATURES_FILE), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .sort((a, b) => String(a.user_id).localeCompare(String(b.user_id)));
    const lakeRecords = records(lakeDir);
    expect(lakeRecords).toEqual(records(pgDir).map((r) => ({ ...r, event_time: AS_OF.toISOString() })));
    expect(lakeRecords.some((r) => String(r.top_artists).includes(','))).toBe(true);

    for (const file of Object.keys(pgManifest.files)) {
      expect([file, lakeManifest.files[file].rows]).toEqual([file, pgManifest.files[file].rows]);
    }
    expect(lakeManifest.files[SNAPSHOT_FILES.train].rows).toBeGreaterThan(100);
    expect(lakeManifest.files[SNAPSHOT_FILES.validation].rows).toBeGreaterThan(10);
    expect(lakeManifest.suppressedUsers).toBe(pgManifest.suppressedUsers);
    expect(lakeManifest.unmatchedFeedback).toEqual(pgManifest.unmatchedFeedback);
  });
});
