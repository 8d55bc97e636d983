import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { handleMigrate } from '../../../../lambda/platform/db-migrate/handler';
import { migrate, readMigrations } from '../../../../lambda/platform/db-migrate/migrate';
import { startPostgres, type LocalPostgres } from '../../../support/postgres';

const MIGRATIONS = join(__dirname, '..', '..', '..', '..', 'sql', 'artist-recommender', 'migrations');
let pg: LocalPostgres;

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
    const first = await handleMigrate(pg.env('m1'));
    expect(first).toEqual({ applied: all.map((m) => m.version), current: all.length });
    const second = await handleMigrate(pg.env('m1'));
    expect(second).toEqual({ applied: [], current: all.length });
    const tables = await withClient('m1', async (c) =>
      (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
        (r) => r.tablename,
      ),
    );
    expect(tables).toEqual(
      expect.arrayContaining(['accounts', 'events', 'schema_migrations', 'feature_user_profile']),
    );
  });

  it('run concurrently without applying anything twice', async () => {
    await pg.createDatabase('m2');
    const results = await Promise.all([handleMigrate(pg.env('m2')), handleMigrate(pg.env('m2'))]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(
      readMigrations(MIGRATIONS).map((m) => m.version),
    );
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
