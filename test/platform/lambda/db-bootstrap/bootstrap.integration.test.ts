import { join } from 'node:path';
import { Client } from 'pg';
import { bootstrapStatements, runStatements } from '../../../../lambda/platform/db-bootstrap/bootstrap';
import { migrate, readMigrations } from '../../../../lambda/platform/db-migrate/migrate';
import { startPostgres, type LocalPostgres } from '../../../support/postgres';

/** A small schema of the platform's own: a keyed table, a rebuilt table and a sequence-keyed one. */
const MIGRATIONS = readMigrations(join(__dirname, '..', 'fixtures', 'sql', 'migrations'));
const USER = 'etl';
let pg: LocalPostgres;

/**
 * A database set up as Aurora sets one up: a master user that is not a superuser but may create
 * roles and hand out `rds_iam`, and owns the default database.
 */
async function auroraLikeDatabase(name: string): Promise<void> {
  const admin = new Client(pg.config());
  await admin.connect();
  try {
    await admin.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN CREATE ROLE rds_iam NOLOGIN; END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'master') THEN
        CREATE ROLE master LOGIN CREATEROLE; GRANT rds_iam TO master WITH ADMIN OPTION;
      END IF;
    END $$`);
    await admin.query(`CREATE DATABASE "${name}" OWNER master`);
  } finally {
    await admin.end();
  }
}

async function as<T>(user: string, database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ ...pg.config(database), user });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs the bootstrap as the master user, one statement at a time, as the Data API does. */
const bootstrapAsMaster = (database: string) =>
  as('master', database, (master) =>
    runStatements(
      async (sql) => void (await master.query(sql)),
      bootstrapStatements({ user: USER, database }),
    ),
  );

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(() => pg?.stop());

describe('database bootstrap', () => {
  it('creates an rds_iam user that can apply the migrations and run the ETL, and can run again', async () => {
    // GIVEN a fresh Aurora-like database
    await auroraLikeDatabase('boot_fresh');
    // WHEN the bootstrap runs twice (every deploy runs it)
    await bootstrapAsMaster('boot_fresh');
    await bootstrapAsMaster('boot_fresh');
    // THEN the user may authenticate with IAM, and as that user the schema is created and used
    const member = await as('master', 'boot_fresh', (c) =>
      c.query(`SELECT pg_has_role('${USER}', 'rds_iam', 'MEMBER') AS member`),
    );
    expect(member.rows[0].member).toBe(true);
    const applied = await as(USER, 'boot_fresh', (c) => migrate(c, MIGRATIONS));
    expect(applied.current).toBe(MIGRATIONS.length);
    await as(USER, 'boot_fresh', async (c) => {
      await c.query(`INSERT INTO records (record_id, label) VALUES ('r1', 'first')`);
      await c.query('CREATE TEMP TABLE staging (x int)');
      await c.query('TRUNCATE record_totals');
      const owner = await c.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'records'`);
      expect(owner.rows[0].tableowner).toBe(USER);
    });
  });

  it('lets the user work on tables a master user created before the bootstrap existed', async () => {
    // GIVEN a database whose schema was applied by the master user
    await auroraLikeDatabase('boot_upgrade');
    await as('master', 'boot_upgrade', (c) => migrate(c, MIGRATIONS));
    // WHEN the bootstrap runs
    await bootstrapAsMaster('boot_upgrade');
    // THEN the user applies nothing twice and may load, rebuild and count as the ETL does
    await as(USER, 'boot_upgrade', async (c) => {
      expect(await migrate(c, MIGRATIONS)).toEqual({ applied: [], current: MIGRATIONS.length });
      await c.query(
        `INSERT INTO records (record_id) VALUES ('r1') ON CONFLICT (record_id) DO UPDATE SET label = 'x'`,
      );
      await c.query('DELETE FROM records');
      await c.query('TRUNCATE record_totals');
      await c.query(`INSERT INTO record_totals (label, records) VALUES ('x', 1)`);
      await c.query('INSERT INTO runs (started_at) VALUES (now())');
    });
  });

  it('without it the user could not create the schema (PostgreSQL 15+ public schema)', async () => {
    // GIVEN a login role that was never bootstrapped
    await auroraLikeDatabase('boot_none');
    await as('master', 'boot_none', (c) => c.query('CREATE ROLE stranger LOGIN'));
    // WHEN it applies the migrations THEN PostgreSQL refuses: the grants are what make it work
    await expect(as('stranger', 'boot_none', (c) => migrate(c, MIGRATIONS))).rejects.toThrow(
      /permission denied for schema public/,
    );
  });
});
