/**
 * Generated events -> transform + load (the real handler, S3 mocked at its client boundary) ->
 * features -> snapshot, against a real PostgreSQL: counts are conserved end to end and loading the
 * same day twice changes nothing.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client } from 'pg';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import { buildFeatures } from '../../../../../lambda/artist-recommender/features/build';
import { exportSnapshot } from '../../../../../lambda/artist-recommender/snapshot/export';
import { handleSnapshot } from '../../../../../lambda/artist-recommender/snapshot/handler';
import { generateData, type GenerateSummary } from '../../../../../scripts/artist-recommender/generate-data';
import { loadAccountsCsv, rawKeys, transformDirectory } from '../../support/pipeline';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';

const SQL = join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender');
const END = '2026-03-01';
const NOW = Date.parse(`${END}T00:00:00Z`);
const CUTOFF = new Date('2026-02-28T00:00:00Z');
let pg: LocalPostgres;
let db: Client;
let env: NodeJS.ProcessEnv;
let data: string;
let summary: GenerateSummary;
const dirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  data = tempDir('pipeline-data-');
  summary = generateData({
    users: 150,
    days: 3,
    out: data,
    seed: 11,
    end: END,
    malformedRate: 0.02,
    duplicateRate: 0.02,
  });
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('pipeline'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  await loadAccountsCsv(db, join(data, 'accounts.csv'));
  env = pg.env('pipeline');
});

afterAll(async () => {
  await db?.end();
  pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('pipeline: generate -> transform -> load -> features -> snapshot', () => {
  let firstChecksums: Record<string, string>;

  it('conserves every line through transform and load', async () => {
    const run = await transformDirectory(data, rawKeys(data), env, NOW);
    expect(run.totals.input).toBe(summary.lines);
    expect(run.totals.input).toBe(run.totals.clean + run.totals.duplicates + run.totals.quarantined);
    expect(run.totals.quarantined).toBe(summary.malformed.total);
    expect(run.totals.duplicates).toBe(summary.duplicatesWithinObject);
    expect(run.totals.clean).toBe(summary.events + summary.duplicatesAcrossObjects);
    expect(run.totals.loaded).toBe(summary.events);
    const stored = await db.query(
      `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(DISTINCT request_id) FROM served_items) AS lists,
              (SELECT count(*) FROM served_items) AS items, (SELECT count(*) FROM feedback) AS feedback`,
    );
    expect(stored.rows[0]).toEqual({
      events: String(summary.events - summary.recommendations - summary.feedback.items),
      lists: String(summary.recommendations),
      items: String(summary.servedItems),
      feedback: String(summary.feedback.items),
    });
    expect(run.totals.loadedRecommendations).toBe(summary.recommendations);
    expect(run.totals.loadedServedItems).toBe(summary.servedItems);
    expect(run.totals.loadedFeedback).toBe(summary.feedback.items);

    // Nothing dropped silently: every malformed line is in a quarantine object, with its reason.
    const reasons: Record<string, number> = {};
    for (const body of run.quarantine.values()) {
      for (const line of gunzipSync(body).toString('utf8').trimEnd().split('\n')) {
        const record = JSON.parse(line);
        reasons[record.reason] = (reasons[record.reason] ?? 0) + 1;
      }
    }
    expect(reasons).toEqual(summary.malformed.byKind);
  });

  it('builds features and a snapshot', async () => {
    const features = await buildFeatures(db, join(SQL, 'features'), { asOf: CUTOFF, k: 5, halfLifeDays: 7 });
    expect(features.rows.feature_user_profile).toBe(summary.accounts);
    const manifest = await exportSnapshot(db, tempDir('snap-a-'), { cutoff: CUTOFF, k: 5 });
    expect(manifest.files['train/interactions.csv'].rows).toBeGreaterThan(100);
    expect(manifest.files['validation/interactions.csv'].rows).toBeGreaterThan(10);
    // Every served item is labelled once, in one of the two feedback files; the planted unmatched
    // feedback is flagged with its reason.
    expect(manifest.files['train/feedback.csv'].rows + manifest.files['validation/feedback.csv'].rows).toBe(
      summary.servedItems,
    );
    expect(manifest.files['validation/feedback.csv'].rows).toBeGreaterThan(0);
    expect(manifest.unmatchedFeedback).toEqual({
      unknown_request: summary.feedback.unknownRequest,
      unknown_item: summary.feedback.unknownItem,
      expired_request: 0,
    });
    expect(features.unmatchedFeedback.unknown_request).toBeGreaterThan(0);
    firstChecksums = Object.fromEntries(Object.entries(manifest.files).map(([f, e]) => [f, e.sha256]));
  });

  it('is idempotent: loading the same day again leaves the snapshot byte-identical', async () => {
    const lastDay = rawKeys(data).filter((k) => k.startsWith('raw/2026/02/28/'));
    expect(lastDay.length).toBeGreaterThan(0);
    const again = await transformDirectory(data, lastDay, env, NOW);
    expect(again.totals.loaded).toBe(0);
    const manifest = await exportSnapshot(db, tempDir('snap-b-'), { cutoff: CUTOFF, k: 5 });
    expect(Object.fromEntries(Object.entries(manifest.files).map(([f, e]) => [f, e.sha256]))).toEqual(
      firstChecksums,
    );
  });

  it('uploads the snapshot through the handler, manifest last', async () => {
    const s3 = apiCheckedMockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    try {
      const result = await handleSnapshot(
        { cutoff: CUTOFF.toISOString(), k: 5 },
        { ...env, SNAPSHOT_BUCKET: 'snapshots', SNAPSHOT_WORK_DIR: tempDir('snap-c-') },
        new S3Client({ region: 'us-east-1' }),
      );
      const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
      expect(keys).toEqual([
        `snapshots/${CUTOFF.toISOString()}/train/interactions.csv`,
        `snapshots/${CUTOFF.toISOString()}/train/users.csv`,
        `snapshots/${CUTOFF.toISOString()}/train/feedback.csv`,
        `snapshots/${CUTOFF.toISOString()}/validation/interactions.csv`,
        `snapshots/${CUTOFF.toISOString()}/validation/feedback.csv`,
        `snapshots/${CUTOFF.toISOString()}/features/user_features.jsonl`,
        `snapshots/${CUTOFF.toISOString()}/manifest.json`,
      ]);
      expect(result.s3Prefix).toBe(`s3://snapshots/snapshots/${CUTOFF.toISOString()}/`);
      expect(JSON.parse(readFileSync(join(result.localDir, 'manifest.json'), 'utf8')).files).toEqual(
        result.files,
      );
      expect(Object.fromEntries(Object.entries(result.files).map(([f, e]) => [f, e.sha256]))).toEqual(
        firstChecksums,
      );
    } finally {
      s3.restore();
    }
  });
});
