/**
 * The functions' lake mode, against a real PostgreSQL with the S3 client mocked at its boundary:
 * the features function builds only the account features and exports the k-anonymous profiles;
 * the snapshot function reads the lake outputs' gzip parts from S3 (listed page by page) and
 * writes the snapshot; bad settings and inputs get a message naming what is wrong.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { migrate, readMigrations } from '../../../../lambda/platform/db-migrate/migrate';
import { handleFeatures } from '../../../../lambda/artist-recommender/features/handler';
import { handleSnapshot } from '../../../../lambda/artist-recommender/snapshot/handler';
import { parseS3Url } from '../../../../lambda/artist-recommender/snapshot/s3-parts';
import { SNAPSHOT_FILES } from '../../../../lambda/artist-recommender/snapshot/export';
import { LocalLake } from '../../../../lambda/artist-recommender/lake/duckdb';
import { LAKE_OUTPUTS } from '../../../../lambda/artist-recommender/lake/queries';
import { generateData } from '../../../../scripts/artist-recommender/generate-data';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { startPostgres, type LocalPostgres } from '../../../support/postgres';
import { loadAccountsCsv, rawKeys, transformDirectory } from '../support/pipeline';

const SQL = join(__dirname, '..', '..', '..', '..', 'sql', 'artist-recommender');
const AS_OF = new Date('2026-03-01T00:00:00Z');
const CUTOFF = new Date('2026-02-28T00:00:00Z');
const QUIET = { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' };

let pg: LocalPostgres;
let db: Client;
let work: string;
let outputs: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lake-handlers-'));
  const data = join(work, 'data');
  generateData({ users: 120, days: 3, out: data, seed: 3, end: '2026-03-01' });
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('lake'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  await loadAccountsCsv(db, join(data, 'accounts.csv'));
  const lake = await LocalLake.open(join(work, 'lake'), join(SQL, 'lake'));
  try {
    const staged = await transformDirectory(
      data,
      rawKeys(data),
      { EVENT_STORE: 'lake', LAKE_BUCKET: 'lake', ...QUIET },
      AS_OF.getTime(),
    );
    for (const [key, body] of staged.quarantine) {
      const match = /^staging\/(\w+)\/day=(\d{4}-\d{2}-\d{2})\/(.+)$/.exec(key);
      if (!match) continue;
      mkdirSync(lake.stagingDir(match[2], match[1] as 'events'), { recursive: true });
      writeFileSync(join(lake.stagingDir(match[2], match[1] as 'events'), match[3]), body);
    }
    for (const day of ['2026-02-26', '2026-02-27', '2026-02-28']) await lake.load(day);
    outputs = join(work, 's3', 'lake', 'outputs', 'run-1');
    for (const output of LAKE_OUTPUTS) {
      await lake.unload(output, { asOf: AS_OF, cutoff: CUTOFF, halfLifeDays: 30 }, join(outputs, output));
    }
  } finally {
    lake.close();
  }
}, 120_000);

afterAll(async () => {
  await db?.end();
  pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the features function on the lake path', () => {
  test('builds the profiles only and exports them, k-anonymous, as CSV to the lake', async () => {
    const s3 = apiCheckedMockClient(S3Client);
    let body = '';
    s3.on(PutObjectCommand).callsFake(async (input: { Key: string; Body: NodeJS.ReadableStream }) => {
      for await (const chunk of input.Body) body += chunk.toString();
      return {};
    });
    try {
      const env = { ...pg.env('lake'), ...QUIET, LAKE_BUCKET: 'lake', LAKE_PROFILES_PREFIX: 'profiles/' };
      const run = await handleFeatures(
        { asOf: AS_OF.toISOString(), k: 3, engine: 'lake' },
        env,
        new S3Client({}),
      );
      expect(run.profilesKey).toBe('profiles/profiles.csv');
      expect(Object.keys(run.timingsMs)).toEqual(['010_user_profile.sql']);
      expect(run.rows.feature_user_top_artists).toBe(0);
      const [header, ...rows] = body.trimEnd().split('\n');
      expect(header).toBe('user_id,age_group,location');
      expect(rows.length).toBe(run.rows.feature_user_profile);
      expect(rows.length).toBeGreaterThan(50);
      expect(body).not.toMatch(/\d{4}-\d{2}-\d{2}/);
      expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
        Bucket: 'lake',
        Key: 'profiles/profiles.csv',
      });
    } finally {
      s3.restore();
    }
  });

  test('refuses the lake path without its bucket', async () => {
    await expect(
      handleFeatures(
        { asOf: AS_OF.toISOString(), engine: 'lake' },
        { ...pg.env('lake'), ...QUIET },
        new S3Client({}),
      ),
    ).rejects.toThrow('engine lake needs LAKE_BUCKET');
  });
});

describe('the snapshot function on the lake path', () => {
  test('reads every part of every output from S3, page by page, and writes the snapshot', async () => {
    const s3 = apiCheckedMockClient(S3Client);
    const root = join(work, 's3', 'lake');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.gz'))
      .sort();
    s3.on(ListObjectsV2Command).callsFake(
      (input: { Bucket: string; Prefix: string; ContinuationToken?: string }) => {
        const keys = files.filter((f) => f.startsWith(input.Prefix));
        // One key per page, so paging is exercised.
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const more = start + 1 < keys.length;
        return {
          KeyCount: Math.min(1, keys.length - start),
          IsTruncated: more,
          ...(more ? { NextContinuationToken: String(start + 1) } : {}),
          Contents: keys.slice(start, start + 1).map((Key) => ({ Key })),
        };
      },
    );
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
      Body: createReadStream(join(root, input.Key)),
    }));
    try {
      const env = { ...pg.env('lake'), ...QUIET, SNAPSHOT_WORK_DIR: join(work, 'snapshot') };
      const result = await handleSnapshot(
        {
          cutoff: CUTOFF.toISOString(),
          validationEnd: AS_OF.toISOString(),
          k: 3,
          lakeOutputs: 's3://lake/outputs/run-1/',
        },
        env,
        new S3Client({}),
      );
      expect(result.files[SNAPSHOT_FILES.train].rows).toBeGreaterThan(100);
      expect(result.files[SNAPSHOT_FILES.validation].rows).toBeGreaterThan(10);
      expect(result.files[SNAPSHOT_FILES.users].rows).toBeGreaterThan(10);
      const listed = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
      // The snapshot reads the outputs it writes files from; the top lists reach it through user_features.
      expect([...new Set(listed)].sort()).toEqual(
        [
          'features/feedback_labels',
          'features/unmatched_feedback',
          'features/user_features',
          'snapshot/train_interactions',
          'snapshot/validation_interactions',
        ].map((o) => `outputs/run-1/${o}/`),
      );
      const train = readFileSync(join(result.localDir, SNAPSHOT_FILES.train), 'utf8').split('\n');
      expect(train[0]).toBe('user_id,item_id,weight,ts');
      expect(relative(work, result.localDir)).toMatch(/^snapshot\//);
    } finally {
      s3.restore();
    }
  });

  test('names a lake outputs value that is not an S3 folder', async () => {
    expect(() => parseS3Url('outputs/run-1/')).toThrow('not an s3:// folder URL');
    expect(() => parseS3Url('s3://lake/outputs/run-1')).toThrow('not an s3:// folder URL');
    expect(parseS3Url('s3://lake/outputs/run-1/')).toEqual({ bucket: 'lake', prefix: 'outputs/run-1/' });
  });
});
