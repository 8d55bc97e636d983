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
 */
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { migrate, readMigrations } from '../../platform/db-migrate/migrate';
import { EnvReader } from '../../platform/shared/env-reader';
import { openObject } from '../../platform/shared/s3-object';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import { designSqlDir } from '../shared/sql-dir';
import { DEFAULT_IMPORT_OPTIONS, importAccounts, type ImportResult } from './import';

export interface AccountsImportEvent {
  bucket: string;
  key: string;
}

export type { ImportResult } from './import';

export async function handleAccountsImport(
  event: AccountsImportEvent,
  env: NodeJS.ProcessEnv = process.env,
  s3: S3Client = new S3Client({}),
  now: () => number = Date.now,
): Promise<ImportResult> {
  const bucket = event?.bucket;
  const key = event?.key;
  if (typeof bucket !== 'string' || !bucket || typeof key !== 'string' || !key)
    throw new Error('the event must name the accounts object: { bucket, key }');
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
      const result = await importAccounts(client, body, options);
      console.log(JSON.stringify({ message: 'accounts imported', bucket, key, ...result }));
      return result;
    } finally {
      body.destroy();
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const handler = (event: AccountsImportEvent): Promise<ImportResult> => handleAccountsImport(event);
