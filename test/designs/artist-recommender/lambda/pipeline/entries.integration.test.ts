/**
 * The ETL's task functions through their Lambda entries, with the payloads the state machine sends
 * (lib/platform/constructs/data/etl-pipeline.ts) and the accounts import's: each refuses a bad
 * payload with the parser's error naming the field, logs each invocation with its request id, and
 * flushes its metrics after each one. Against a real PostgreSQL; S3 mocked at its client boundary.
 */
import {
  captureOutput,
  lambdaContext,
  logLines,
  metricsLines,
  type StdoutCapture,
} from '../../../../platform/lambda/support/invocation';
import { ParseError } from '@aws-lambda-powertools/parser';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { handler as accountsImport } from '../../../../../lambda/artist-recommender/accounts-import/handler';
import { TooManyBadRowsError } from '../../../../../lambda/artist-recommender/accounts-import/import';
import { handler as transform } from '../../../../../lambda/artist-recommender/event-transform/handler';
import { handler as features } from '../../../../../lambda/artist-recommender/features/handler';
import { handler as snapshot } from '../../../../../lambda/artist-recommender/snapshot/handler';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';
import { validEvent } from '../events/fixtures';

const SQL = join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender');
const s3 = apiCheckedMockClient(S3Client);
const saved = { ...process.env };
let pg: LocalPostgres;
let workDir: string;
let stdout: StdoutCapture;

function serve(objects: Record<string, Buffer>): void {
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
    Body: Readable.from([objects[input.Key]]),
  }));
  s3.on(PutObjectCommand).resolves({});
}

const lines = (message: string) => logLines(stdout).filter((line) => line.message === message);
const metric = (name: string) =>
  metricsLines(stdout)
    .filter((line) => line.names.includes(name))
    .map((line) => line.values[name]);

beforeAll(async () => {
  pg = await startPostgres();
  const db = new Client(await pg.createDatabase('entries'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  await db.end();
  workDir = mkdtempSync(join(tmpdir(), 'entries-'));
  Object.assign(process.env, pg.env('entries'), {
    RAW_BUCKET: 'raw',
    SNAPSHOT_WORK_DIR: workDir,
    DB_CONNECT_ATTEMPTS: '1',
  });
});

afterAll(() => {
  process.env = saved;
  s3.restore();
  pg?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

beforeEach(() => {
  s3.reset();
  stdout = captureOutput();
});
afterEach(() => stdout.restore());

describe('TransformObject (a Distributed Map item)', () => {
  it('refuses an item without a key, naming it', async () => {
    const error = await transform({ bucket: 'raw' }, lambdaContext('t-0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe('invalid event: key is missing');
    expect(s3.calls()).toHaveLength(0);
  });

  it('logs each object with its request id and flushes its counts after each', async () => {
    const object = (from: number, count: number) =>
      gzipSync(
        Array.from({ length: count }, (_, i) => JSON.stringify(validEvent(from + i)))
          .concat(['not json'])
          .join('\n'),
      );
    serve({ 'raw/a.gz': object(0, 3), 'raw/b.gz': object(100, 2) });
    await transform({ bucket: 'raw', key: 'raw/a.gz' }, lambdaContext('t-1'));
    await transform({ bucket: 'raw', key: 'raw/b.gz' }, lambdaContext('t-2'));
    expect(lines('transformed').map((l) => [l.function_request_id, l.loaded])).toEqual([
      ['t-1', 3],
      ['t-2', 2],
    ]);
    expect(metric('EventsLoaded')).toEqual([3, 2]);
    expect(metric('EventsQuarantined')).toEqual([1, 1]);
  });
});

describe('BuildFeatures', () => {
  it('refuses an asOf that is not a timestamp, naming it', async () => {
    const error = await features({ asOf: 'yesterday', k: 10 }, lambdaContext('f-0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe('invalid event: asOf must be an ISO-8601 timestamp with a zone');
  });

  it('logs each build with its request id and flushes its row count after each', async () => {
    const event = { asOf: '2026-03-02T00:00:00.000Z', k: 1, halfLifeDays: 30 };
    await features(event, lambdaContext('f-1'));
    await features(event, lambdaContext('f-2'));
    expect(lines('features built').map((l) => l.function_request_id)).toEqual(['f-1', 'f-2']);
    expect(metric('FeatureRows')).toHaveLength(2);
  });
});

describe('ExportSnapshot', () => {
  it('refuses an event without a cutoff, naming it', async () => {
    await expect(
      snapshot({ validationEnd: '2026-03-02T00:00:00.000Z', k: 10 }, lambdaContext('s-0')),
    ).rejects.toThrow('invalid event: cutoff is missing');
  });

  it('logs the export with its request id and flushes its counts', async () => {
    await snapshot({ cutoff: '2026-03-01T00:00:00.000Z', k: 1 }, lambdaContext('s-1'));
    expect(lines('snapshot exported').map((l) => l.function_request_id)).toEqual(['s-1']);
    expect(metric('SnapshotRows')).toHaveLength(1);
  });
});

describe('the accounts import', () => {
  it('refuses an event without a key, naming it', async () => {
    await expect(accountsImport({ bucket: 'raw', key: '' }, lambdaContext('a-0'))).rejects.toThrow(
      'invalid event: key must not be empty',
    );
  });

  it('logs each import with its request id and flushes its counts after each, a refused one too', async () => {
    const header = 'user_id,date_of_birth,city,state,country,created_at';
    const csv = (...rows: string[]) => Buffer.from([header, ...rows].join('\n') + '\n');
    serve({
      'accounts/1.csv': csv('u-1,1990-01-01,Austin,TX,US,2025-01-01T00:00:00Z'),
      'accounts/2.csv': csv('u-2,1991-01-01,Boston,MA,US,2025-01-01T00:00:00Z', 'u-3,nope,,,,'),
    });
    await accountsImport({ bucket: 'raw', key: 'accounts/1.csv' }, lambdaContext('a-1'));
    // Half the rows of the second file are bad, above ACCOUNTS_MAX_BAD_FRACTION: nothing is imported.
    await expect(
      accountsImport({ bucket: 'raw', key: 'accounts/2.csv' }, lambdaContext('a-2')),
    ).rejects.toThrow(TooManyBadRowsError);
    expect(lines('accounts imported').map((l) => l.function_request_id)).toEqual(['a-1']);
    expect(metric('AccountsUpserted')).toEqual([1, 0]);
    expect(metric('BadRows')).toEqual([0, 1]);
  });
});
