/**
 * Rebuilds the feature tables (an ETL step after the loads).
 *
 * Event: `{ asOf?: string (ISO-8601 with a zone, default now), k?: number, halfLifeDays?: number }`.
 * Result: `{ asOf, rows: { <table>: count }, timingsMs: { <file>: ms } }`.
 * Metric: FeatureRows (the rows of every feature table, summed).
 * Environment: K_ANONYMITY (default 10), HALF_LIFE_DAYS (default 30), SQL_DIR (see
 * `../shared/sql-dir.ts`), and the database settings of `../../platform/shared-db/connection.ts`.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { join } from 'node:path';
import type { z } from 'zod';
import { fields, lambdaEntry, powertools } from '../../platform/shared/lambda-entry';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import { designSqlDir } from '../shared/sql-dir';
import { buildFeatures, type FeatureRun } from './build';

const tools = powertools();
const { logger, metrics } = tools;

/** What the pipeline's BuildFeatures state sends: `{ asOf, k, halfLifeDays }`. */
export const FeaturesEvent = fields.object({
  asOf: fields.timestamp().optional(),
  k: fields.positiveInteger().optional(),
  halfLifeDays: fields.positiveNumber().optional(),
});
export type FeaturesEvent = z.output<typeof FeaturesEvent>;

export async function handleFeatures(
  event: FeaturesEvent,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FeatureRun> {
  const params = {
    asOf: event.asOf ? new Date(event.asOf) : new Date(),
    k: event.k ?? Number(env.K_ANONYMITY ?? 10),
    halfLifeDays: event.halfLifeDays ?? Number(env.HALF_LIFE_DAYS ?? 30),
  };
  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  try {
    const run = await buildFeatures(client, join(designSqlDir(env), 'features'), params);
    const rows = Object.values(run.rows).reduce((sum, n) => sum + n, 0);
    metrics.addMetric('FeatureRows', MetricUnit.Count, rows);
    logger.info('features built', { ...run });
    return run;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const handler = lambdaEntry(tools, FeaturesEvent, (event) => handleFeatures(event));
