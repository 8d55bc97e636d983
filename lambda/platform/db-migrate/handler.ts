/**
 * Applies the schema migrations in `<SQL tree>/migrations` (a pipeline step).
 *
 * Event: any object (its fields are not read). Result: `{ applied: number[], current: number }`.
 * Safe to run on every deployment: already-applied versions are skipped, a changed applied file
 * fails the run. Metric: MigrationsApplied.
 * Environment: SQL_DIR (default: the `sql/` folder the design's SQL is bundled as; a run from the
 * repository must set it, the platform knowing no design's SQL), and the database settings of
 * `../shared-db/connection.ts`.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { join } from 'node:path';
import { fields, lambdaEntry, powertools } from '../shared/lambda-entry';
import { connectOptionsFromEnv, connectWithRetry, resolveClientConfig } from '../shared-db/connection';
import { sqlDir } from '../shared-db/sql-dir';
import { migrate, readMigrations, type MigrateResult } from './migrate';

const tools = powertools();
const { logger, metrics } = tools;

/** The pipeline's Migrate state sends `{}`; nothing of the event is read. */
export const MigrateEvent = fields.object({});

export async function handleMigrate(env: NodeJS.ProcessEnv = process.env): Promise<MigrateResult> {
  const migrations = readMigrations(join(sqlDir(env), 'migrations'));
  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  try {
    const result = await migrate(client, migrations);
    metrics.addMetric('MigrationsApplied', MetricUnit.Count, result.applied.length);
    logger.info('schema migrated', { ...result });
    return result;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const handler = lambdaEntry(tools, MigrateEvent, () => handleMigrate());
