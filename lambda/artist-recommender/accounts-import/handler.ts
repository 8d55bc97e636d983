/**
 * Imports an accounts CSV into PostgreSQL (runs in the VPC, beside the database).
 *
 * Applies the schema migrations first, so an import into a database no ETL run has touched works.
 * Event: `{ bucket, key }`: a CSV with the header `user_id,date_of_birth,city,state,country,created_at`
 * (as scripts/artist-recommender/generate-data.ts writes it; gzip when the key ends in .gz).
 * Result: `{ rows, upserted, badLines, badLineSamples: [{ line, reason }] }`: data rows read, accounts
 * inserted or changed (0 when the same file is imported again), and the rows refused, counted with
 * their line numbers (never dropped silently).
 * The object is streamed into a staging table with COPY and upserted by user_id in one transaction.
 * Errors: a missing or wrong header throws InvalidFileError; more than ACCOUNTS_MAX_BAD_FRACTION of
 * the rows bad throws TooManyBadRowsError; both roll back, so the table is unchanged.
 *
 * Environment: ACCOUNTS_MAX_BAD_FRACTION (default 0.01), ACCOUNTS_MAX_BAD_LINE_SAMPLES (default 20),
 * SQL_DIR (see `../shared/sql-dir.ts`), and the database settings of
 * `../../platform/shared-db/connection.ts`.
 * Metrics: AccountsUpserted, BadRows.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import type { z } from 'zod';
import { migrate, readMigrations } from '../../platform/db-migrate/migrate';
import { EnvReader } from '../../platform/shared/env-reader';
import { fields, lambdaEntry, powertools } from '../../platform/shared/lambda-entry';
import { openObject } from '../../platform/shared/s3-object';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import { designSqlDir } from '../shared/sql-dir';
import { DEFAULT_IMPORT_OPTIONS, TooManyBadRowsError, importAccounts, type ImportResult } from './import';

const tools = powertools();
const { logger, metrics, tracer } = tools;

/** Built once per container, on the first invocation that needs it. */
let s3: S3Client | undefined;
const defaultS3 = (): S3Client => (s3 ??= tracer.captureAWSv3Client(new S3Client(SDK_RETRY.standard)));

/** The object to import, as an operator or a script invokes the function with it. */
export const AccountsImportEvent = fields.object({ bucket: fields.text(), key: fields.text() });
export type AccountsImportEvent = z.output<typeof AccountsImportEvent>;

export type { ImportResult } from './import';

export async function handleAccountsImport(
  event: AccountsImportEvent,
  env: NodeJS.ProcessEnv = process.env,
  s3: S3Client = defaultS3(),
  now: () => number = Date.now,
): Promise<ImportResult> {
  const { bucket, key } = event;
  const read = new EnvReader(env);
  const options = {
    maxBadFraction: read.number('ACCOUNTS_MAX_BAD_FRACTION', 0, 1, DEFAULT_IMPORT_OPTIONS.maxBadFraction),
    maxSamples: read.integer('ACCOUNTS_MAX_BAD_LINE_SAMPLES', 0, 1000, DEFAULT_IMPORT_OPTIONS.maxSamples),
    now: now(),
  };
  read.done('accounts import configuration');

  // The database first: a paused Aurora takes seconds to resume, and an S3 download left idle that
  // long may be cut by the server.
  const client = await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env));
  try {
    // Accounts may arrive before the first ETL run has created the schema (a freshly seeded
    // sandbox): apply the migrations first. Idempotent, and serialised with the ETL's own step.
    await migrate(client, readMigrations(join(designSqlDir(env), 'migrations')));
    const { body } = await openObject(s3, bucket, key);
    try {
      const result = await importAccounts(client, body, options).catch((error: unknown) => {
        if (error instanceof TooManyBadRowsError) count(error.result);
        throw error;
      });
      count(result);
      logger.info('accounts imported', { bucket, key, ...result });
      return result;
    } finally {
      body.destroy();
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function count(result: ImportResult): void {
  metrics.addMetric('AccountsUpserted', MetricUnit.Count, result.upserted);
  metrics.addMetric('BadRows', MetricUnit.Count, result.badLines);
}

export const handler = lambdaEntry(tools, AccountsImportEvent, (event) => handleAccountsImport(event));
