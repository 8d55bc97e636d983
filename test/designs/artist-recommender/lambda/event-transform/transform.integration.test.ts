import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import {
  handleTransform,
  quarantineKeyFor,
} from '../../../../../lambda/artist-recommender/event-transform/handler';
import { DatabaseUnavailableError } from '../../../../../lambda/platform/shared-db/connection';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';
import { NOW, validEvent } from '../events/fixtures';

const GOLDEN = join(__dirname, '..', '..', 'data', 'golden');
const s3 = apiCheckedMockClient(S3Client);
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

function golden(name: string, kind: 'clean' | 'quarantine'): string {
  return readFileSync(join(GOLDEN, `${name}.${kind}.jsonl`), 'utf8');
}

function goldenIds(name: string): string[] {
  return golden(name, 'clean')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { event_id: string }).event_id);
}

async function idsFrom(client: Client, key: string): Promise<string[]> {
  const { rows } = await client.query<{ event_id: string }>(
    'SELECT event_id FROM events WHERE source_key = $1 ORDER BY loaded_at, event_id',
    [`s3://raw-bucket/${key}`],
  );
  return rows.map((row) => row.event_id);
}

/** The object as the same lines with CR line ends and a byte order mark. */
function bomAndCr(data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(data.toString('latin1').replace(/\r?\n/g, '\r'), 'latin1'),
  ]);
}

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
  await migrate(
    db,
    readMigrations(join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender', 'migrations')),
  );
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
      clean: 5,
      duplicates: 1,
      quarantined: 15,
      loaded: 5,
      recommendations: 0,
      feedback: 0,
      loadedRecommendations: 0,
      loadedServedItems: 0,
      loadedFeedback: 0,
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
    expect(result).toMatchObject({ input: 21, clean: 5, loaded: 0 });
    expect(await eventCount()).toBe(before);
  });

  it('dedupes across objects through the unique event_id', async () => {
    const lines = [validEvent(1, { event_id: 'e-1' }), validEvent(2, { event_id: 'e-new' })].map((event) =>
      JSON.stringify(event),
    );
    serve({ 'raw/b.gz': gzipSync(lines.join('\n') + '\n') });
    const result = await transform('raw/b.gz');
    expect(result).toMatchObject({ input: 2, clean: 2, duplicates: 0, quarantined: 0, loaded: 1 });
    expect(result.quarantineKey).toBeUndefined();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('streams a larger object and loads every row', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify(validEvent(i, { event_id: `big-${i}`, ts: new Date(NOW - i * 1000).toISOString() })),
    );
    serve({ 'raw/big.gz': gzipSync(lines.join('\n')) });
    const result = await transform('raw/big.gz');
    expect(result).toMatchObject({ input: 20_000, clean: 20_000, loaded: 20_000 });
  });

  it('rolls back a corrupt gzip object and says so', async () => {
    const before = await eventCount();
    const good = gzipSync(`${JSON.stringify(validEvent(1, { event_id: 'c-1' }))}\n`.repeat(50));
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

  it('loads ids that differ only in case, punctuation or look-alike characters as distinct rows', async () => {
    serve({ 'raw/ids/a.gz': gzipSync(readFileSync(join(GOLDEN, 'ids-exact.jsonl'))) });
    const result = await transform('raw/ids/a.gz');
    expect(result).toMatchObject({ input: 18, clean: 10, duplicates: 1, quarantined: 7, loaded: 10 });
    const ids = goldenIds('ids-exact');
    expect(ids).toEqual(
      expect.arrayContaining(['EVT-1', 'evt-1', 'evt.1', 'evt_1', '\uff25\uff36\uff34-1', '\u0435vt-1']),
    );
    expect((await idsFrom(db, 'raw/ids/a.gz')).sort()).toEqual([...ids].sort());
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(gunzipSync(put.Body as Buffer).toString('utf8')).toBe(golden('ids-exact', 'quarantine'));

    // Across objects the primary key dedupes exact repeats only: one more look-alike is a new row.
    const lines = readFileSync(join(GOLDEN, 'ids-exact.jsonl'), 'utf8').split('\n').slice(0, 3);
    lines.push(lines[0].replace('"EVT-1"', '"Evt-1"'));
    serve({ 'raw/ids/b.gz': gzipSync(lines.join('\n')) });
    expect(await transform('raw/ids/b.gz')).toMatchObject({ input: 4, clean: 4, duplicates: 0, loaded: 1 });
    expect(await idsFrom(db, 'raw/ids/b.gz')).toEqual(['Evt-1']);
  });

  it('keeps ids distinct in a database whose default collation ignores case', async () => {
    // Primary-key equality is byte-wise under every deterministic collation, and a database's
    // default collation is always deterministic:
    // https://www.postgresql.org/docs/15/collation.html#COLLATION-NONDETERMINISTIC
    const admin = new Client(pg.config());
    await admin.connect();
    try {
      await admin.query(
        `CREATE DATABASE transform_icu TEMPLATE template0 ENCODING 'UTF8'
           LOCALE_PROVIDER icu ICU_LOCALE 'und-u-ks-level2' LOCALE 'C'`,
      );
    } finally {
      await admin.end();
    }
    const icu = new Client(pg.config('transform_icu'));
    await icu.connect();
    try {
      await migrate(
        icu,
        readMigrations(
          join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender', 'migrations'),
        ),
      );
      expect(
        (await icu.query(`SELECT 'EVT-1' < 'evt-2' AND 'evt-1' < 'EVT-2' AS folded`)).rows[0].folded,
      ).toBe(true);
      serve({ 'raw/ids/a.gz': gzipSync(readFileSync(join(GOLDEN, 'ids-exact.jsonl'))) });
      const result = await handleTransform(
        { bucket: 'raw-bucket', key: 'raw/ids/a.gz' },
        { ...env, ...pg.env('transform_icu') },
        new S3Client({ region: 'us-east-1' }),
        () => NOW,
      );
      expect(result).toMatchObject({ clean: 10, loaded: 10 });
      expect((await idsFrom(icu, 'raw/ids/a.gz')).sort()).toEqual(goldenIds('ids-exact').sort());
    } finally {
      await icu.end();
    }
  });

  it('quarantines lines that are not UTF-8 and ids holding NUL or U+FFFD, with reasons, and conserves counts', async () => {
    serve({ 'raw/utf8/a.gz': gzipSync(readFileSync(join(GOLDEN, 'invalid-utf8.jsonl'))) });
    const result = await transform('raw/utf8/a.gz');
    expect(result).toMatchObject({ input: 9, clean: 3, duplicates: 0, quarantined: 6, loaded: 3 });
    expect(result.input).toBe(result.clean + result.duplicates + result.quarantined);
    // u8-2 is its own event: the line whose id held a byte 0xFF is not stripped into a second u8-2.
    expect((await idsFrom(db, 'raw/utf8/a.gz')).sort()).toEqual(['u8-1', 'u8-2', 'u8-5']);
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    const quarantined = gunzipSync(put.Body as Buffer).toString('utf8');
    expect(quarantined).toBe(golden('invalid-utf8', 'quarantine'));
    expect(
      quarantined
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).reason),
    ).toEqual(['invalid_utf8', 'invalid_utf8', 'invalid_id', 'invalid_json', 'invalid_utf8', 'invalid_utf8']);
  });

  it('loads the same rows from objects with a byte order mark and CR or CRLF line ends as from LF', async () => {
    serve({ 'raw/eol/bom-cr.gz': gzipSync(readFileSync(join(GOLDEN, 'bom-cr.jsonl'))) });
    expect(await transform('raw/eol/bom-cr.gz')).toMatchObject({
      input: 4,
      clean: 4,
      quarantined: 0,
      loaded: 4,
    });
    expect(await idsFrom(db, 'raw/eol/bom-cr.gz')).toEqual(goldenIds('bom-cr'));

    // The mixed object again, as BOM + CR-only: the same counts, the same quarantine, no new row.
    serve({ 'raw/eol/mixed-cr.gz': gzipSync(bomAndCr(readFileSync(join(GOLDEN, 'mixed.jsonl')))) });
    const before = await eventCount();
    const result = await transform('raw/eol/mixed-cr.gz');
    expect(result).toMatchObject({ input: 21, clean: 5, duplicates: 1, quarantined: 15, loaded: 0 });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(gunzipSync(put.Body as Buffer).toString('utf8')).toBe(golden('mixed', 'quarantine'));
    expect(await eventCount()).toBe(before);
  });
});
