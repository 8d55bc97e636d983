/**
 * PostgreSQL connection settings and a connect that waits for a paused or restarting database.
 *
 * Settings come from DB_SECRET_ARN (a Secrets Manager secret in the RDS JSON shape: host, port,
 * dbname, username, password), resolved once per container, or else from PGHOST, PGPORT,
 * PGDATABASE, PGUSER, PGPASSWORD. DB_SSL=true turns TLS on (with verification: on Lambda set
 * NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem, which holds the RDS certificate authorities).
 * DB_CONNECT_ATTEMPTS (default 6) bounds the retries, long enough for Aurora Serverless v2 to
 * resume from 0 ACU (about 15 s).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client, type ClientConfig } from 'pg';

export interface ConnectOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

let cachedSecret: Promise<ClientConfig> | undefined;

export async function resolveClientConfig(
  env: NodeJS.ProcessEnv = process.env,
  secrets: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): Promise<ClientConfig> {
  const ssl = env.DB_SSL === 'true' ? { rejectUnauthorized: true } : undefined;
  const common = { ssl, connectionTimeoutMillis: 10_000, application_name: env.AWS_LAMBDA_FUNCTION_NAME };
  if (env.DB_SECRET_ARN) {
    const arn = env.DB_SECRET_ARN;
    cachedSecret ??= secrets()
      .send(new GetSecretValueCommand({ SecretId: arn }))
      .then((out) => {
        const secret = JSON.parse(out.SecretString ?? '{}') as Record<string, string | number>;
        return {
          host: String(secret.host),
          port: Number(secret.port ?? 5432),
          database: String(secret.dbname ?? 'postgres'),
          user: String(secret.username),
          password: String(secret.password),
        };
      })
      .catch((error: Error) => {
        cachedSecret = undefined;
        throw new Error(`cannot read the database secret ${arn}: ${error.message}`);
      });
    return { ...(await cachedSecret), ...common };
  }
  if (!env.PGHOST)
    throw new Error('set DB_SECRET_ARN or PGHOST (with PGPORT, PGDATABASE, PGUSER, PGPASSWORD)');
  return {
    host: env.PGHOST,
    port: Number(env.PGPORT ?? 5432),
    database: env.PGDATABASE ?? 'postgres',
    user: env.PGUSER ?? 'postgres',
    password: env.PGPASSWORD,
    ...common,
  };
}

/** Codes of failures that a paused, starting or overloaded server gives, and that go away. */
const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  '57P03', // cannot_connect_now: starting up or resuming
  '57P01', // admin_shutdown
  '08001',
  '08006',
  '53300', // too_many_connections
]);

export function isTransient(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (e.code && TRANSIENT.has(e.code)) return true;
  return /timeout|terminated|Connection ended/i.test(e.message ?? '');
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Connects, retrying transient failures with capped exponential backoff; permanent ones throw at once. */
export async function connectWithRetry(
  config: ClientConfig,
  options: ConnectOptions = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8000 },
): Promise<Client> {
  const sleep = options.sleep ?? defaultSleep;
  let last: unknown;
  let made = 0;
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    made++;
    if (attempt > 0) {
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
    const client = new Client(config);
    // An idle connection dropped by the server must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      last = error;
      await client.end().catch(() => undefined);
      if (!isTransient(error)) break;
    }
  }
  const reason = last instanceof Error ? last.message : String(last);
  const why = isTransient(last) ? `unreachable after ${made} attempts` : 'refused the connection';
  throw new DatabaseUnavailableError(`database ${config.host}:${config.port} ${why}: ${reason}`);
}

export function connectOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectOptions {
  const attempts = Number(env.DB_CONNECT_ATTEMPTS ?? 6);
  return {
    attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 6,
    baseDelayMs: 500,
    maxDelayMs: 8000,
  };
}
