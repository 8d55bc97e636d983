/**
 * Rebuilds the feature tables (an ETL step after the loads).
 *
 * Event: `{ asOf?: string (ISO-8601, default now), k?: number, halfLifeDays?: number }`.
 * Result: `{ asOf, rows: { <table>: count }, timingsMs: { <file>: ms } }`.
 * Environment: K_ANONYMITY (default 10), HALF_LIFE_DAYS (default 30), SQL_DIR (see
 * `../shared/sql-dir.ts`), and the database settings of `../../platform/shared-db/connection.ts`.
 */
import { join } from 'node:path';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import { designSqlDir } from '../shared/sql-dir';
import { buildFeatures, type FeatureRun } from './build';

export interface FeaturesEvent {
  asOf?: string;
  k?: number;
  halfLifeDays?: number;
}

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
    return await buildFeatures(client, join(designSqlDir(env), 'features'), params);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const handler = (event: FeaturesEvent = {}): Promise<FeatureRun> => handleFeatures(event);
