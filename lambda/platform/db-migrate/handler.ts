/**
 * Applies the schema migrations in `<SQL tree>/migrations` (a custom resource or a pipeline step).
 *
 * Event: anything (ignored). Result: `{ applied: number[], current: number }`. Safe to run on every
 * deployment: already-applied versions are skipped, a changed applied file fails the run.
 * Environment: SQL_DIR (default: the `sql/` folder the design's SQL is bundled as; a run from the
 * repository must set it, the platform knowing no design's SQL), and the database settings of
 * `../shared-db/connection.ts`.
 */
import { join } from 'node:path';
import { connectOptionsFromEnv, connectWithRetry, resolveClientConfig } from '../shared-db/connection';
import { sqlDir } from '../shared-db/sql-dir';
import { migrate, readMigrations, type MigrateResult } from './migrate';

export async function handleMigrate(env: NodeJS.ProcessEnv = process.env): Promise<MigrateResult> {
  const migrations = readMigrations(join(sqlDir(env), 'migrations'));
  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  try {
    return await migrate(client, migrations);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const handler = (): Promise<MigrateResult> => handleMigrate();
