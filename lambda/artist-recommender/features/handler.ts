/**
 * Rebuilds the feature tables (an ETL step after the loads).
 *
 * Event: `{ asOf?: string (ISO-8601 with a zone, default now), k?: number, halfLifeDays?: number,
 * engine?: 'postgres' | 'lake' }`.
 * Result: `{ asOf, rows: { <table>: count }, timingsMs: { <file>: ms }, profilesKey? }`.
 *
 * With `engine: 'lake'` only the account features are built here (ACCOUNT_FEATURE_FILES: the
 * k-anonymous profiles); they are then exported as CSV to `s3://LAKE_BUCKET/LAKE_PROFILES_PREFIX
 * profiles.csv` for the lake's user_features join (`profilesKey`), and the lake builds the event side.
 * Metric: FeatureRows (the rows of every feature table, summed).
 * Environment: K_ANONYMITY (default 10), HALF_LIFE_DAYS (default 30), LAKE_BUCKET and
 * LAKE_PROFILES_PREFIX (default `profiles/`) for the lake, SQL_DIR (see
 * `../shared/sql-dir.ts`), and the database settings of `../../platform/shared-db/connection.ts`.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { putFile } from '../../platform/shared/s3-file';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
import type { z } from 'zod';
import { fields, lambdaEntry, powertools } from '../../platform/shared/lambda-entry';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import { designSqlDir } from '../shared/sql-dir';
import { ACCOUNT_FEATURE_FILES, buildFeatures, type FeatureRun } from './build';
import { profilesCsv } from './profiles';

const tools = powertools();
const { logger, metrics, tracer } = tools;

/** Built once per container, on the first invocation that needs it. */
let s3: S3Client | undefined;
const defaultS3 = (): S3Client => (s3 ??= tracer.captureAWSv3Client(new S3Client(SDK_RETRY.standard)));

/** What the pipeline's BuildFeatures state sends: `{ asOf, k, halfLifeDays }`. */
export const FeaturesEvent = fields.object({
  asOf: fields.timestamp().optional(),
  k: fields.positiveInteger().optional(),
  halfLifeDays: fields.positiveNumber().optional(),
  engine: fields.oneOf(['postgres', 'lake']).optional(),
});
export type FeaturesEvent = z.output<typeof FeaturesEvent>;

export async function handleFeatures(
  event: FeaturesEvent,
  env: NodeJS.ProcessEnv = process.env,
  s3: S3Client = defaultS3(),
): Promise<FeatureRun & { profilesKey?: string }> {
  const lake = event.engine === 'lake';
  if (lake && !env.LAKE_BUCKET) throw new Error('engine lake needs LAKE_BUCKET');
  const params = {
    asOf: event.asOf ? new Date(event.asOf) : new Date(),
    k: event.k ?? Number(env.K_ANONYMITY ?? 10),
    halfLifeDays: event.halfLifeDays ?? Number(env.HALF_LIFE_DAYS ?? 30),
  };
  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  try {
    const dir = join(designSqlDir(env), 'features');
    const run = await buildFeatures(client, dir, params, lake ? ACCOUNT_FEATURE_FILES : undefined);
    const rows = Object.values(run.rows).reduce((sum, n) => sum + n, 0);
    metrics.addMetric('FeatureRows', MetricUnit.Count, rows);
    if (!lake) {
      logger.info('features built', { ...run });
      return run;
    }
    // Written to /tmp first: PutObject needs the length of what it sends.
    const path = join(tmpdir(), `profiles-${process.pid}.csv`);
    try {
      await pipeline(profilesCsv(client), createWriteStream(path));
      const profilesKey = `${env.LAKE_PROFILES_PREFIX ?? 'profiles/'}profiles.csv`;
      await putFile(s3, {
        bucket: env.LAKE_BUCKET as string,
        key: profilesKey,
        path,
        contentType: 'text/csv',
      });
      logger.info('account features built, profiles exported', { ...run, profilesKey });
      return { ...run, profilesKey };
    } finally {
      rmSync(path, { force: true });
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const handler = lambdaEntry(tools, FeaturesEvent, (event) => handleFeatures(event));
