/**
 * The one-time setup of the database user the functions connect as with IAM authentication. It runs
 * as the master user, through the RDS Data API at deploy time (see ./handler.ts), and is idempotent:
 * every statement may run again on every deploy.
 *
 * Aurora PostgreSQL accepts IAM tokens for a user that is a member of `rds_iam`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html).
 * PostgreSQL 15 and later no longer let every user create objects in the `public` schema, so the
 * user is given CREATE there: the migrations run as this user and own what they create. Objects a
 * master user created before this setup existed get the privileges the functions use.
 */

/** A PostgreSQL identifier the statements can quote without escaping. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export interface BootstrapSettings {
  /** The database user that the functions connect as. */
  readonly user: string;
  /** The database the functions use. */
  readonly database: string;
}

export function bootstrapStatements({ user, database }: BootstrapSettings): string[] {
  const bad = [
    ['user', user],
    ['database', database],
  ].filter(([, value]) => !IDENTIFIER.test(value));
  if (bad.length > 0) {
    throw new Error(
      `invalid bootstrap settings: ${bad.map(([name, value]) => `${name} must be a lower-case identifier; got ${JSON.stringify(value)}`).join('; ')}`,
    );
  }
  return [
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${user}') THEN
        CREATE ROLE "${user}" LOGIN;
      END IF;
    END $$`,
    `GRANT rds_iam TO "${user}"`,
    `GRANT CONNECT, TEMPORARY ON DATABASE "${database}" TO "${user}"`,
    `GRANT USAGE, CREATE ON SCHEMA public TO "${user}"`,
    `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON ALL TABLES IN SCHEMA public TO "${user}"`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "${user}"`,
  ];
}

/** Runs one SQL statement; rejects with an error whose `name` says why (the Data API's error names). */
export type Execute = (sql: string) => Promise<void>;

export interface RetryOptions {
  /** Stop retrying once this much time has passed. */
  readonly deadlineMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { deadlineMs: 120_000, baseDelayMs: 2000, maxDelayMs: 15_000 };

/**
 * Errors of a database that is not ready yet: a paused Aurora Serverless v2 instance answers
 * DatabaseResumingException and resumes (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html);
 * a writer still starting answers DatabaseUnavailableException.
 *
 * The SDK's retry cannot wait these out, so `runStatements` does. DatabaseResumingException is an
 * HTTP 400 sender fault without the retryable trait (the pinned model,
 * test/aws-api-models/rds-data), which the SDK never retries; DatabaseUnavailableException is a
 * 504 that the SDK retries, but within its few attempts and sub-second to seconds backoff
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html), while a resume or
 * a starting writer takes tens of seconds.
 */
const NOT_READY = new Set(['DatabaseResumingException', 'DatabaseUnavailableException']);

export async function runStatements(
  execute: Execute,
  statements: readonly string[],
  options: RetryOptions = DEFAULT_RETRY,
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const started = now();
  for (const [index, sql] of statements.entries()) {
    for (let attempt = 0; ; attempt++) {
      try {
        await execute(sql);
        break;
      } catch (error) {
        const name = (error as Error).name;
        const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
        if (!NOT_READY.has(name) || now() - started + delay > options.deadlineMs) {
          const waited = Math.round((now() - started) / 1000);
          throw new Error(
            `bootstrap statement ${index + 1} of ${statements.length} failed after ${attempt + 1} attempt(s) in ${waited} s: ${name}: ${(error as Error).message}`,
          );
        }
        await sleep(delay);
      }
    }
  }
}
