import { captureOutput, lambdaContext, logLines, metricsLines } from '../support/invocation';
import { ParseError } from '@aws-lambda-powertools/parser';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { handleMigrate, handler } from '../../../../lambda/platform/db-migrate/handler';
import { migrate, readMigrations } from '../../../../lambda/platform/db-migrate/migrate';
import { startPostgres, type LocalPostgres } from '../../../support/postgres';

/** A small schema of the platform's own: the handler reads a design's SQL only where it is told. */
const SQL_DIR = join(__dirname, '..', 'fixtures', 'sql');
const MIGRATIONS = join(SQL_DIR, 'migrations');
let pg: LocalPostgres;

/** The handler's environment for a database, its SQL named as a bundled function's is. */
const handlerEnv = (database: string) => ({ ...pg.env(database), SQL_DIR });

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(() => pg?.stop());

async function withClient<T>(database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client(pg.config(database));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  it('apply in order once, and re-apply as a no-op', async () => {
    await pg.createDatabase('m1');
    const all = readMigrations(MIGRATIONS);
    expect(all.map((m) => m.version)).toEqual(all.map((_, i) => i + 1));
    expect(all.length).toBeGreaterThan(1);
    const first = await handleMigrate(handlerEnv('m1'));
    expect(first).toEqual({ applied: all.map((m) => m.version), current: all.length });
    const second = await handleMigrate(handlerEnv('m1'));
    expect(second).toEqual({ applied: [], current: all.length });
    const tables = await withClient('m1', async (c) =>
      (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
        (r) => r.tablename,
      ),
    );
    expect(tables).toEqual(['record_totals', 'records', 'runs', 'schema_migrations']);
  });

  it('run concurrently without applying anything twice', async () => {
    await pg.createDatabase('m2');
    const results = await Promise.all([handleMigrate(handlerEnv('m2')), handleMigrate(handlerEnv('m2'))]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(
      readMigrations(MIGRATIONS).map((m) => m.version),
    );
  });

  it('are read only from SQL_DIR or the bundled folder, never guessed from the repository', async () => {
    await pg.createDatabase('m4');
    // WHEN the handler runs unbundled without SQL_DIR THEN it says where it looked, and applies nothing
    await expect(handleMigrate(pg.env('m4'))).rejects.toThrow(
      /^SQL_DIR is not set, and there is no SQL folder at /,
    );
    const recorded = await withClient('m4', (c) => c.query(`SELECT to_regclass('schema_migrations') AS t`));
    expect(recorded.rows[0].t).toBeNull();
  });

  it('refuses an applied migration that changed, and rolls back a failing one', async () => {
    await pg.createDatabase('m3');
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      writeFileSync(join(dir, '001_first.sql'), 'CREATE TABLE t1 (id int);');
      await withClient('m3', (c) => migrate(c, readMigrations(dir)));
      writeFileSync(join(dir, '001_first.sql'), 'CREATE TABLE t1 (id bigint);');
      await expect(withClient('m3', (c) => migrate(c, readMigrations(dir)))).rejects.toThrow(/changed after/);

      writeFileSync(join(dir, '001_first.sql'), 'CREATE TABLE t1 (id int);');
      writeFileSync(join(dir, '002_broken.sql'), 'CREATE TABLE t2 (id int); SELECT 1/0;');
      await expect(withClient('m3', (c) => migrate(c, readMigrations(dir)))).rejects.toThrow(
        /002_broken failed/,
      );
      const t2 = await withClient('m3', (c) => c.query(`SELECT to_regclass('t2') AS t`));
      expect(t2.rows[0].t).toBeNull();

      writeFileSync(join(dir, '004_gap.sql'), 'SELECT 1;');
      expect(() => readMigrations(dir)).toThrow(/without gaps/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the Lambda entry (the pipeline's Migrate state)", () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('refuses an event that is not an object, naming it', async () => {
    const error = await handler('migrate', lambdaContext('m-0')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe('invalid event: the event must be an object');
  });

  it('logs each run with its request id and flushes the count it applied after each', async () => {
    await pg.createDatabase('entry');
    Object.assign(process.env, handlerEnv('entry'));
    const output = captureOutput();
    try {
      await handler({}, lambdaContext('m-1'));
      await handler({}, lambdaContext('m-2'));
      const runs = logLines(output).filter((line) => line.message === 'schema migrated');
      expect(runs.map((line) => [line.function_request_id, line.applied])).toEqual([
        ['m-1', readMigrations(MIGRATIONS).map((m) => m.version)],
        ['m-2', []],
      ]);
      const applied = metricsLines(output).filter((line) => line.names.includes('MigrationsApplied'));
      expect(applied.map((line) => line.values.MigrationsApplied)).toEqual([
        readMigrations(MIGRATIONS).length,
        0,
      ]);
    } finally {
      output.restore();
    }
  });
});
