import { lambdaContext } from '../../../../platform/lambda/support/invocation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import {
  handleAccountsImport,
  handler,
} from '../../../../../lambda/artist-recommender/accounts-import/handler';
import {
  InvalidFileError,
  TooManyBadRowsError,
} from '../../../../../lambda/artist-recommender/accounts-import/import';
import { migrate, readMigrations } from '../../../../../lambda/platform/db-migrate/migrate';
import { generateData } from '../../../../../scripts/artist-recommender/generate-data';
import { startPostgres, type LocalPostgres } from '../../../../support/postgres';

const SQL = join(__dirname, '..', '..', '..', '..', '..', 'sql', 'artist-recommender');
const NOW = Date.parse('2026-03-01T12:00:00Z');
const HEADER = 'user_id,date_of_birth,city,state,country,created_at';
let pg: LocalPostgres;
let db: Client;
let env: NodeJS.ProcessEnv;
let generated: string;
let dir: string;
const s3mock = apiCheckedMockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const objects = new Map<string, Buffer>();

function put(key: string, body: string | Buffer): { bucket: string; key: string } {
  objects.set(key, Buffer.isBuffer(body) ? body : Buffer.from(body));
  return { bucket: 'data', key };
}

const run = (event: { bucket: string; key: string }, extra: NodeJS.ProcessEnv = {}) =>
  handleAccountsImport(event, { ...env, ...extra }, s3, () => NOW);

async function snapshot(): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT xmin::text AS x, user_id, date_of_birth::text AS d, city, state, country, created_at
       FROM accounts ORDER BY user_id`,
  );
  return rows.map((r) => JSON.stringify(r));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'accounts-'));
  generateData({ users: 400, days: 1, out: dir, seed: 3 });
  generated = readFileSync(join(dir, 'accounts.csv'), 'utf8');
  pg = await startPostgres();
  db = new Client(await pg.createDatabase('accounts'));
  await db.connect();
  await migrate(db, readMigrations(join(SQL, 'migrations')));
  env = pg.env('accounts');
  s3mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (!body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    // Small chunks: records and characters split across chunks are the normal case.
    return {
      Body: Readable.from(
        (function* () {
          for (let i = 0; i < body.length; i += 1000) yield body.subarray(i, i + 1000);
        })(),
      ),
    };
  });
});

afterAll(async () => {
  s3mock.restore();
  await db?.end();
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
afterAll(() => log.mockRestore());

describe('accounts import', () => {
  it('imports the generated accounts', async () => {
    const result = await run(put('accounts/accounts.csv', generated));
    expect(result).toEqual({ rows: 400, upserted: 400, badLines: 0, badLineSamples: [] });
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, count(date_of_birth)::int AS dob, count(city)::int AS city FROM accounts`,
    );
    expect(rows[0].n).toBe(400);
    // The generator leaves some birth dates and cities empty: they are NULL, not ''.
    expect(rows[0].dob).toBeLessThan(400);
    expect(rows[0].city).toBeLessThan(400);
    const [, first] = generated.split('\n');
    const [userId, dob, city, state, country, created] = first.split(',');
    const stored = await db.query(
      `SELECT date_of_birth::text AS d, city, state, country, created_at FROM accounts WHERE user_id = $1`,
      [userId],
    );
    expect(stored.rows[0]).toEqual({
      d: dob || null,
      city: city || null,
      state,
      country,
      created_at: new Date(created),
    });
  });

  it('imports into a database no ETL run has migrated yet: it creates the schema first', async () => {
    // GIVEN a fresh database, as a sandbox has before its first ETL run
    const fresh = pg.env('accounts_fresh');
    await pg.createDatabase('accounts_fresh');
    // WHEN accounts are imported into it
    const result = await handleAccountsImport(
      put('accounts/first.csv', generated),
      { ...fresh },
      s3,
      () => NOW,
    );
    // THEN every account is there
    expect(result).toMatchObject({ rows: 400, upserted: 400, badLines: 0 });
  });

  it('is idempotent: the same file again changes nothing, not even a row version', async () => {
    const before = await snapshot();
    const result = await run(put('accounts/accounts.csv.gz', gzipSync(generated)));
    expect(result).toEqual({ rows: 400, upserted: 0, badLines: 0, badLineSamples: [] });
    expect(await snapshot()).toEqual(before);
  });

  it('upserts changed and new accounts only', async () => {
    const lines = generated.trimEnd().split('\n');
    lines[5] = lines[5].replace(/,[^,]*,([^,]*),([^,]*),([^,]*)$/, ',"Springfield, North",$1,$2,$3');
    lines.push('U-NEW!,1999-12-31,Oslo,,no,2026-01-01T00:00:00Z');
    const result = await run(put('accounts/changed.csv', lines.join('\n') + '\n'));
    expect(result).toMatchObject({ rows: 401, upserted: 2, badLines: 0 });
    const changed = await db.query(`SELECT city FROM accounts WHERE user_id = $1`, [lines[5].split(',')[0]]);
    expect(changed.rows[0].city).toBe('Springfield, North');
    // Ids are kept exactly as sent, as event ids are, so accounts join the events on the same value.
    const added = await db.query(`SELECT state, country FROM accounts WHERE user_id = 'U-NEW!'`);
    expect(added.rows).toEqual([{ state: null, country: 'no' }]);
  });

  it('counts bad rows with their line numbers and imports the rest', async () => {
    const good = Array.from(
      { length: 300 },
      (_, i) => `b${i},1980-01-0${1 + (i % 9)},Lima,lim,pe,2025-01-01T00:00:00Z`,
    );
    const lines = [HEADER, ...good];
    lines.splice(10, 0, 'bad1,1980-02-30,Lima,lim,pe,2025-01-01T00:00:00Z');
    lines.splice(20, 0, 'b3,1980-01-01,Cusco,cus,pe,2025-01-01T00:00:00Z');
    const result = await run(put('accounts/some-bad.csv', lines.join('\n')));
    expect(result).toEqual({
      rows: 302,
      upserted: 300,
      badLines: 2,
      badLineSamples: [
        { line: 11, reason: 'date_of_birth is not a YYYY-MM-DD date' },
        { line: 21, reason: 'user_id repeats line 5' },
      ],
    });
    const kept = await db.query(`SELECT city FROM accounts WHERE user_id = 'b3'`);
    expect(kept.rows).toEqual([{ city: 'Lima' }]);
  });

  it.each([
    ['a wrong field count', 'x1,1980-01-01,Lima,lim,pe', '5 fields, expected 6'],
    ['no id', '?!,1980-01-01,Lima,lim,pe,2025-01-01T00:00:00Z', 'user_id has no letter or digit'],
    [
      'an id with edge spaces',
      ' u9 ,1980-01-01,Lima,lim,pe,2025-01-01T00:00:00Z',
      'user_id starts or ends with whitespace',
    ],
    [
      'a future birth date',
      'x1,2027-01-01,Lima,lim,pe,2025-01-01T00:00:00Z',
      'date_of_birth is out of range',
    ],
    [
      'a zone-less creation time',
      'x1,1980-01-01,Lima,lim,pe,2025-01-01 10:00',
      'created_at is not an ISO-8601 timestamp with a zone',
    ],
    [
      'a control character',
      'x1,1980-01-01,"Li\tma",lim,pe,2025-01-01T00:00:00Z',
      'city holds a control character',
    ],
    ['a stray quote', 'x1,1980-01-01,Li"ma,lim,pe,2025-01-01T00:00:00Z', 'a quote inside an unquoted field'],
    // Date.parse rolls these over (to 2025-03-02 and 2025-01-02) instead of refusing them.
    [
      'a creation day that does not exist',
      'x1,1980-01-01,Lima,lim,pe,2025-02-30T00:00:00Z',
      'created_at is not an ISO-8601 timestamp with a zone',
    ],
    [
      'a creation hour of 24',
      'x1,1980-01-01,Lima,lim,pe,2025-01-01T24:00:00Z',
      'created_at is not an ISO-8601 timestamp with a zone',
    ],
    // PostgreSQL has no year 0: the row would fail the COPY and with it the whole file.
    ['a creation year 0000', 'x1,1980-01-01,Lima,lim,pe,0000-01-01T00:00:00Z', 'created_at is out of range'],
  ])('refuses a row with %s', async (_label, row, reason) => {
    const lines = [
      HEADER,
      ...Array.from({ length: 150 }, (_, i) => `ok${i},,Lima,lim,pe,2025-01-01T00:00:00Z`),
      row,
    ];
    const result = await run(put('accounts/one-bad.csv', lines.join('\n')));
    expect(result.badLineSamples).toEqual([{ line: 152, reason }]);
  });

  it('refuses a row whose text is not UTF-8 instead of storing U+FFFD in its place', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => `utf${i},,Lima,lim,pe,2025-01-01T00:00:00Z`);
    const body = Buffer.concat([
      Buffer.from([HEADER, ...rows, 'utf-bad,,Li'].join('\n')),
      Buffer.from([0xff]),
      Buffer.from('ma,lim,pe,2025-01-01T00:00:00Z\n'),
    ]);
    const result = await run(put('accounts/not-utf8.csv', body));
    expect(result).toMatchObject({ rows: 151, upserted: 150, badLines: 1 });
    expect(result.badLineSamples).toEqual([
      { line: 152, reason: 'city holds U+FFFD, the mark a decoder leaves for bytes that were not UTF-8' },
    ]);
    const stored = await db.query(`SELECT count(*)::int AS n FROM accounts WHERE user_id = 'utf-bad'`);
    expect(stored.rows).toEqual([{ n: 0 }]);
  });

  it('fails without changes when more than the allowed share of rows is bad', async () => {
    const before = await snapshot();
    const lines = [
      HEADER,
      ...Array.from({ length: 100 }, (_, i) => `c${i},1980-01-01,Quito,pi,ec,2025-01-01T00:00:00Z`),
    ];
    for (let i = 0; i < 5; i++) lines.push(`c-bad${i},not-a-date,Quito,pi,ec,2025-01-01T00:00:00Z`);
    const error = await run(put('accounts/many-bad.csv', lines.join('\n'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyBadRowsError);
    expect((error as TooManyBadRowsError).result).toMatchObject({ rows: 105, badLines: 5, upserted: 0 });
    expect((error as Error).message).toMatch(/5 of 105 rows are bad; nothing was imported; first: line 102/);
    expect(await snapshot()).toEqual(before);
    // A larger allowance lets the same file through.
    const allowed = await run(put('accounts/many-bad.csv', lines.join('\n')), {
      ACCOUNTS_MAX_BAD_FRACTION: '0.1',
    });
    expect(allowed).toMatchObject({ rows: 105, upserted: 100, badLines: 5 });
  });

  it.each([
    ['an empty file', '', /the file is empty/],
    ['a wrong header', 'id,dob,city,state,country,created\nu1,,,,,2025-01-01T00:00:00Z\n', /the header is/],
  ])('refuses %s', async (_label, body, message) => {
    const before = await snapshot();
    await expect(run(put('accounts/broken.csv', body))).rejects.toThrow(InvalidFileError);
    await expect(run(put('accounts/broken.csv', body))).rejects.toThrow(message);
    expect(await snapshot()).toEqual(before);
  });

  it('accepts a file with only the header', async () => {
    expect(await run(put('accounts/header.csv', HEADER + '\n'))).toEqual({
      rows: 0,
      upserted: 0,
      badLines: 0,
      badLineSamples: [],
    });
  });

  it('needs bucket and key: the Lambda entry names the missing one before touching anything', async () => {
    const sent = s3mock.calls().length;
    await expect(handler({ bucket: 'data' }, lambdaContext('import-0'))).rejects.toThrow(
      'invalid event: key is missing',
    );
    expect(s3mock.calls()).toHaveLength(sent);
  });
});
