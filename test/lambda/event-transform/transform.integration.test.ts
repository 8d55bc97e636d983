import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { migrate, readMigrations } from '../../../lambda/db-migrate/migrate';
import { handleTransform, quarantineKeyFor } from '../../../lambda/event-transform/handler';
import { DatabaseUnavailableError } from '../../../lambda/shared-db/connection';
import { startPostgres, type LocalPostgres } from '../../support/postgres';

const GOLDEN = join(__dirname, '..', '..', 'data', 'golden');
const NOW = Date.parse('2026-03-01T12:00:00Z');
const s3 = mockClient(S3Client);
let pg: LocalPostgres;
let db: Client;
let env: NodeJS.ProcessEnv;

function serve(objects: Record<string, Buffer>) {
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects[input.Key];
    if (!body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: Readable.from([body]) };
  });
  s3.on(PutObjectCommand).resolves({});
}

const transform = (key: string) =>
  handleTransform({ bucket: 'raw-bucket', key }, env, new S3Client({ region: 'us-east-1' }), () => NOW);

async function eventCount(): Promise<number> {
  return Number((await db.query('SELECT count(*) AS n FROM events')).rows[0].n);
}

beforeAll(async () => {
  // The handler logs one summary line per object, as it would in CloudWatch.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  pg = await startPostgres();
  const config = await pg.createDatabase('transform');
  db = new Client(config);
  await db.connect();
  await migrate(db, readMigrations(join(__dirname, '..', '..', '..', 'sql', 'migrations')));
  env = { ...pg.env('transform'), MAX_LINE_BYTES: '600', QUARANTINE_PREFIX: 'quarantine/' };
});

afterAll(async () => {
  await db?.end();
  pg?.stop();
});

beforeEach(() => s3.reset());

describe('event transform against PostgreSQL', () => {
  const mixed = gzipSync(readFileSync(join(GOLDEN, 'mixed.jsonl')));

  it('loads clean rows, quarantines bad lines with reasons, and conserves counts', async () => {
    serve({ 'raw/2026/03/01/11/a.gz': mixed });
    const result = await transform('raw/2026/03/01/11/a.gz');
    expect(result).toEqual({
      bucket: 'raw-bucket',
      key: 'raw/2026/03/01/11/a.gz',
      input: 21,
      clean: 6,
      duplicates: 2,
      quarantined: 13,
      loaded: 6,
      quarantineKey: 'quarantine/2026/03/01/11/a.gz.quarantine.jsonl.gz',
    });
    expect(result.input).toBe(result.clean + result.duplicates + result.quarantined);

    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({
      Bucket: 'raw-bucket',
      Key: quarantineKeyFor('raw/2026/03/01/11/a.gz', 'quarantine/'),
    });
    const quarantined = gunzipSync(put.Body as Buffer).toString('utf8');
    expect(quarantined).toBe(readFileSync(join(GOLDEN, 'mixed.quarantine.jsonl'), 'utf8'));

    const { rows } = await db.query(
      `SELECT event_id, user_id, item_id, artist_ids, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS ts, source_key
         FROM events ORDER BY event_id`,
    );
    const golden = readFileSync(join(GOLDEN, 'mixed.clean.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(rows).toEqual(
      golden.map((e) => ({
        event_id: e.event_id,
        user_id: e.user_id,
        item_id: e.item_id,
        artist_ids: e.artist_ids,
        ts: e.ts.replace('Z', ''),
        source_key: 's3://raw-bucket/raw/2026/03/01/11/a.gz',
      })),
    );
  });

  it('is idempotent: the same object again loads nothing new', async () => {
    serve({ 'raw/2026/03/01/11/a.gz': mixed });
    const before = await eventCount();
    const result = await transform('raw/2026/03/01/11/a.gz');
    expect(result).toMatchObject({ input: 21, clean: 6, loaded: 0 });
    expect(await eventCount()).toBe(before);
  });

  it('dedupes across objects through the unique event_id', async () => {
    const lines = [
      '{"event_id":"e-1","user_id":"u-1","event_type":"click","item_type":"artist","item_id":"a-1","ts":"2026-02-28T10:00:00Z","request_id":"r-1","variant":"champion"}',
      '{"event_id":"e-new","user_id":"u-1","event_type":"click","item_type":"artist","item_id":"a-1","ts":"2026-02-28T10:00:00Z","request_id":"r-1","variant":"champion"}',
    ];
    serve({ 'raw/b.gz': gzipSync(lines.join('\n') + '\n') });
    const result = await transform('raw/b.gz');
    expect(result).toMatchObject({ input: 2, clean: 2, duplicates: 0, quarantined: 0, loaded: 1 });
    expect(result.quarantineKey).toBeUndefined();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('streams a larger object and loads every row', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({
        event_id: `big-${i}`,
        user_id: `u-${i % 97}`,
        event_type: 'play',
        item_type: 'song',
        item_id: `s-${i % 1000}`,
        artist_ids: [`a-${i % 50}`],
        ts: new Date(NOW - i * 1000).toISOString(),
        request_id: `r-${i}`,
        variant: 'champion',
      }),
    );
    serve({ 'raw/big.gz': gzipSync(lines.join('\n')) });
    const result = await transform('raw/big.gz');
    expect(result).toMatchObject({ input: 20_000, clean: 20_000, loaded: 20_000 });
  });

  it('rolls back a corrupt gzip object and says so', async () => {
    const before = await eventCount();
    const good = gzipSync(
      '{"event_id":"c-1","user_id":"u","event_type":"click","item_type":"artist","item_id":"a","ts":"2026-02-28T10:00:00Z","request_id":"r","variant":"v"}\n'.repeat(
        50,
      ),
    );
    serve({ 'raw/corrupt.gz': Buffer.concat([good.subarray(0, good.length - 12), Buffer.from('garbage!')]) });
    await expect(transform('raw/corrupt.gz')).rejects.toThrow(/incorrect|check|unexpected end|invalid/i);
    expect(await eventCount()).toBe(before);
  });

  it('fails clearly when the database stays unreachable', async () => {
    serve({ 'raw/b.gz': gzipSync('{}\n') });
    const closed = { ...env, PGPORT: '1', DB_CONNECT_ATTEMPTS: '2' };
    await expect(
      handleTransform(
        { bucket: 'raw-bucket', key: 'raw/b.gz' },
        closed,
        new S3Client({ region: 'us-east-1' }),
      ),
    ).rejects.toThrow(DatabaseUnavailableError);
    await expect(
      handleTransform(
        { bucket: 'raw-bucket', key: 'raw/b.gz' },
        closed,
        new S3Client({ region: 'us-east-1' }),
      ),
    ).rejects.toThrow(/127\.0\.0\.1:1 unreachable after 2 attempts/);
  });
});
