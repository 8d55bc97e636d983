/**
 * PostgreSQL connection settings and a connect that waits for a paused or restarting database.
 *
 * Deployed (DB_IAM_AUTH=true): DB_HOST, DB_PORT (default 5432), DB_NAME, DB_USER, and AWS_REGION.
 * The password is an IAM authentication token signed locally with the function's credentials
 * (@aws-sdk/rds-signer): no secret is read and no AWS API is called, so the function needs no
 * network path to Secrets Manager. Tokens live 15 minutes; one is reused for 10, because IAM
 * authentication throttles new connections per second and connections that share a token are not
 * throttled (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html).
 * IAM authentication requires TLS: set DB_SSL=true (verified; on Lambda with
 * NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem, which holds the RDS certificate authorities).
 *
 * Secrets and rotation: no function of the platform or the designs reads a secret. The functions
 * hold no database password, only tokens signed from their role's credentials, so rotating the
 * master secret cannot break a connection or a cached credential. The master secret is read only by
 * the RDS Data API, server-side, when the deploy-time bootstrap (`../db-bootstrap`) creates the
 * user, and the Data API reads its current version on every call. A function that comes to need a
 * secret reads it through Powertools Parameters (`@aws-lambda-powertools/parameters/secrets`) with
 * a `maxAge`, so a rotated value is picked up within that age instead of held for the container's life.
 *
 * Locally and in tests: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD (password authentication).
 *
 * DB_CONNECT_ATTEMPTS (default 6) bounds the retries, long enough for Aurora Serverless v2 to
 * resume from 0 ACU (about 15 s).
 */
import { Signer } from '@aws-sdk/rds-signer';
import { Client, type ClientConfig } from 'pg';
import { withDeadline } from '../shared/deadline';

export interface ConnectOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** What signs a token: the boundary to @aws-sdk/rds-signer, replaced in tests. */
export interface TokenSigner {
  getAuthToken(): Promise<string>;
}

export interface SignerSettings {
  hostname: string;
  port: number;
  username: string;
  region: string;
}

export interface IamAuthOptions {
  signer?: (settings: SignerSettings) => TokenSigner;
  now?: () => number;
  /** A signing that has not finished by then fails. @default 5000 */
  signTimeoutMs?: number;
}

/** Reuse a token for 10 of its 15 minutes: a connection attempt never carries an expired one. */
export const TOKEN_REUSE_MS = 10 * 60_000;

const defaultSigner = (settings: SignerSettings): TokenSigner => new Signer(settings);

interface CachedToken {
  key: string;
  signedAt: number;
  token: Promise<string>;
}
let cachedToken: CachedToken | undefined;

/** Forgets the cached token (tests; a new container starts without one). */
export function resetTokenCache(): void {
  cachedToken = undefined;
}

/**
 * A password callback for pg: a token for `settings`, signed at most every TOKEN_REUSE_MS. pg calls
 * it on every connection attempt, so a retry after a pause or a long wait gets a token still valid.
 */
export function iamTokenProvider(
  settings: SignerSettings,
  options: IamAuthOptions = {},
): () => Promise<string> {
  const sign = options.signer ?? defaultSigner;
  const now = options.now ?? Date.now;
  const timeoutMs = options.signTimeoutMs ?? 5000;
  const key = `${settings.username}@${settings.hostname}:${settings.port}/${settings.region}`;
  return () => {
    const at = now();
    if (!cachedToken || cachedToken.key !== key || at - cachedToken.signedAt >= TOKEN_REUSE_MS) {
      const entry: CachedToken = {
        key,
        signedAt: at,
        // The signer takes no abort signal: the deadline settles the wait, the signing is abandoned.
        token: withDeadline('signing the database token', timeoutMs, () =>
          sign(settings).getAuthToken(),
        ).catch((error: Error) => {
          if (cachedToken === entry) cachedToken = undefined;
          throw new Error(
            `cannot sign an IAM database token for ${settings.username}@${settings.hostname}: ${error.message}`,
          );
        }),
      };
      cachedToken = entry;
    }
    return cachedToken.token;
  };
}

export async function resolveClientConfig(
  env: NodeJS.ProcessEnv = process.env,
  iam: IamAuthOptions = {},
): Promise<ClientConfig> {
  const ssl = env.DB_SSL === 'true' ? { rejectUnauthorized: true } : undefined;
  const common = { ssl, connectionTimeoutMillis: 10_000, application_name: env.AWS_LAMBDA_FUNCTION_NAME };
  if (env.DB_IAM_AUTH === 'true') {
    const missing = ['DB_HOST', 'DB_NAME', 'DB_USER', 'AWS_REGION'].filter((name) => !env[name]);
    const port = Number(env.DB_PORT ?? 5432);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) missing.push('DB_PORT (an integer port)');
    if (missing.length > 0) throw new Error(`DB_IAM_AUTH=true needs ${missing.join(', ')}`);
    if (!ssl) throw new Error('DB_IAM_AUTH=true needs DB_SSL=true: IAM database authentication requires TLS');
    const settings = { hostname: env.DB_HOST!, port, username: env.DB_USER!, region: env.AWS_REGION! };
    return {
      host: settings.hostname,
      port,
      database: env.DB_NAME,
      user: settings.username,
      password: iamTokenProvider(settings, iam),
      ...common,
    };
  }
  if (!env.PGHOST)
    throw new Error(
      'set DB_IAM_AUTH=true with DB_HOST, DB_NAME, DB_USER; or PGHOST (with PGPORT, PGDATABASE, PGUSER, PGPASSWORD)',
    );
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

/**
 * Connects, retrying transient failures with capped exponential backoff; permanent ones throw at once.
 * This is a PostgreSQL connection, not an AWS SDK call: no SDK retry setting covers it, and a
 * database resuming from a pause refuses connections for seconds.
 */
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
