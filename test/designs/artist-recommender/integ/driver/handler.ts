/**
 * The integration test's driver: what the assertions cannot do with one SDK call. It signs its API
 * calls with SigV4 and its own role, as a client with `execute-api:Invoke` would, and works on the
 * data set of `scripts/generate-data.ts` (no malformed or duplicate lines: the API would refuse those).
 *
 * Environment: API_URL (the stage URL, ending in `/`), RAW_BUCKET, ACCOUNTS_IMPORT_FUNCTION, and the
 * credentials and region the Lambda runtime sets.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateData, rawKeys } from '../../../../../scripts/artist-recommender/generate-data';
import { EVENT_TYPES } from '../../../../../lib/designs/artist-recommender/contracts/events';
import type {
  CountDeliveredResult,
  DataSpec,
  DriverRequest,
  ImportAccountsResult,
  PostEventsResult,
  RecommendationsResult,
} from './requests';
import { encodeRfc3986, signRequest, type AwsCredentials } from './sigv4';

/** `POST /v1/events` takes at most 500 events (lambda/events/limits.ts). */
export const EVENTS_PER_REQUEST = 500;
/** Where the accounts CSV goes, as scripts/seed-sandbox.ts puts it (the import function reads accounts/*). */
export const ACCOUNTS_KEY = 'accounts/accounts.csv';
const DAY_MS = 86_400_000;

export interface DriverConfig {
  readonly apiUrl: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly rawBucket: string;
  readonly accountsImportFunction: string;
}

export interface DriverDeps {
  readonly config: DriverConfig;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  /** Milliseconds left before the invocation must answer. */
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Longest one HTTP request or SDK call may take. */
const CALL_TIMEOUT_MS = 15_000;
/** Answered to the caller before the function's own timeout, with what was done. */
const ANSWER_MARGIN_MS = 10_000;

export class BadRequestError extends Error {}

export function configFromEnv(env: NodeJS.ProcessEnv): DriverConfig {
  const missing = [
    'API_URL',
    'RAW_BUCKET',
    'ACCOUNTS_IMPORT_FUNCTION',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
  ].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`driver environment lacks ${missing.join(', ')}`);
  return {
    apiUrl: env.API_URL!.endsWith('/') ? env.API_URL! : `${env.API_URL}/`,
    region: env.AWS_REGION!,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID!,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
      sessionToken: env.AWS_SESSION_TOKEN,
    },
    rawBucket: env.RAW_BUCKET!,
    accountsImportFunction: env.ACCOUNTS_IMPORT_FUNCTION!,
  };
}

function dataSpec(request: Partial<DataSpec>): DataSpec {
  const problems: string[] = [];
  const integer = (name: keyof DataSpec, min: number, max: number): number => {
    const value = request[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      problems.push(`${name} must be an integer in [${min}, ${max}]`);
    return value as number;
  };
  const spec = {
    users: integer('users', 20, 5000),
    days: integer('days', 2, 60),
    seed: integer('seed', 0, 2 ** 31),
  };
  if (problems.length > 0) throw new BadRequestError(problems.join('; '));
  return spec;
}

export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/**
 * The data set's interaction events, generated into a temporary directory and read back: every line
 * is one valid event a client may post. The served lists and the feedback the generator also writes
 * are the system's own lines (`POST /v1/events` refuses them), so they are left out.
 */
export function generate(
  spec: DataSpec,
  now: number,
): { accountsCsv: Buffer; events: Record<string, unknown>[] } {
  const dir = mkdtempSync(join(tmpdir(), 'integ-data-'));
  try {
    // The window ends at today's midnight UTC: every event lies in the past, within the API's age limit.
    generateData({ ...spec, out: dir, end: utcDay(now), malformedRate: 0, duplicateRate: 0 });
    const events: Record<string, unknown>[] = [];
    for (const key of rawKeys(dir)) {
      for (const line of gunzipSync(readFileSync(join(dir, key)))
        .toString('utf8')
        .split('\n')) {
        if (!line) continue;
        const event = JSON.parse(line) as Record<string, unknown>;
        if ((EVENT_TYPES as readonly unknown[]).includes(event.event_type)) events.push(event);
      }
    }
    return { accountsCsv: readFileSync(join(dir, 'accounts.csv')), events };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signedFetch(
  deps: DriverDeps,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<{ status: number; body: unknown }> {
  const { config } = deps;
  const url = `${config.apiUrl}${path}`;
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const signed = signRequest({
    method,
    url,
    headers,
    body,
    region: config.region,
    service: 'execute-api',
    credentials: config.credentials,
    now: new Date(deps.now()),
  });
  const response = await deps.fetch(url, {
    method,
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the message.
  }
  return { status: response.status, body: parsed };
}

export async function recommendations(
  deps: DriverDeps,
  userId: string,
  limit: number,
): Promise<RecommendationsResult> {
  const path = `v1/users/${encodeRfc3986(userId)}/recommendations?limit=${limit}`;
  const { status, body } = await signedFetch(deps, 'GET', path);
  const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    status,
    source: typeof answer.source === 'string' ? answer.source : undefined,
    items: Array.isArray(answer.items) ? answer.items.length : undefined,
    error: status === 200 ? undefined : JSON.stringify(body).slice(0, 300),
  };
}

export async function importAccounts(deps: DriverDeps, spec: DataSpec): Promise<ImportAccountsResult> {
  const { accountsCsv } = generate(spec, deps.now());
  const { config } = deps;
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: config.rawBucket,
      Key: ACCOUNTS_KEY,
      Body: accountsCsv,
      ContentType: 'text/csv',
    }),
    { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
  );
  // A paused Aurora cluster resumes within the import's own retries: give it the rest of the budget.
  const out = await deps.lambda.send(
    new InvokeCommand({
      FunctionName: config.accountsImportFunction,
      Payload: Buffer.from(JSON.stringify({ bucket: config.rawBucket, key: ACCOUNTS_KEY })),
    }),
    { abortSignal: AbortSignal.timeout(Math.max(1000, deps.remainingMs() - ANSWER_MARGIN_MS)) },
  );
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError)
    throw new Error(`accounts import failed (${out.FunctionError}): ${text.slice(0, 500)}`);
  const result = JSON.parse(text) as ImportAccountsResult;
  return { rows: result.rows, upserted: result.upserted, badLines: result.badLines };
}

/** Splits events into request bodies of at most `size` events. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error('batch size must be a positive integer');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Concurrent requests: well under the sandbox stage's throttle (13 requests/s, burst 26). */
const CONCURRENCY = 4;
const MAX_ATTEMPTS = 4;

export async function postEvents(deps: DriverDeps, spec: DataSpec): Promise<PostEventsResult> {
  const { events } = generate(spec, deps.now());
  const bodies = batches(events, EVENTS_PER_REQUEST);
  let next = 0;
  let failedRequests = 0;
  let accepted = 0;
  let rejected = 0;
  let firstProblem: string | undefined;
  const problem = (text: string) => {
    firstProblem ??= text.slice(0, 500);
  };

  const post = async (index: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (deps.remainingMs() < ANSWER_MARGIN_MS + CALL_TIMEOUT_MS) {
        failedRequests++;
        problem(`request ${index}: not sent, the invocation ran out of time`);
        return;
      }
      let status: number;
      let body: unknown;
      try {
        ({ status, body } = await signedFetch(
          deps,
          'POST',
          'v1/events',
          JSON.stringify({ events: bodies[index] }),
        ));
      } catch (error) {
        status = 0;
        body = (error as Error).message;
      }
      if (status === 202) {
        const answer = body as { acceptedCount: number; rejectedCount: number; rejected?: unknown[] };
        accepted += answer.acceptedCount;
        rejected += answer.rejectedCount;
        if (answer.rejectedCount > 0)
          problem(`request ${index}: rejected ${JSON.stringify(answer.rejected?.[0])}`);
        return;
      }
      // Throttled (429), not delivered by Firehose (503, nothing of it was written) or no answer:
      // the whole batch again after a backoff. Anything else is the API refusing the request.
      const retryable = status === 0 || status === 429 || status === 503;
      if (!retryable || attempt === MAX_ATTEMPTS) {
        failedRequests++;
        problem(`request ${index}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
        return;
      }
      await deps.sleep(Math.min(8000, 500 * 2 ** attempt));
    }
  };
  const worker = async () => {
    while (next < bodies.length) await post(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, bodies.length) }, worker));
  return {
    day: utcDay(deps.now()),
    events: events.length,
    requests: bodies.length,
    failedRequests,
    accepted,
    rejected,
    firstProblem,
  };
}

/** `raw/YYYY/MM/DD/`: Firehose's partition of a UTC day (lib/constructs/data/event-ingestion.ts). */
export function rawDayPrefix(day: string): string {
  return `raw/${day.replace(/-/g, '/')}/`;
}

async function eventIdsUnder(
  deps: DriverDeps,
  prefix: string,
  wanted: ReadonlySet<string>,
): Promise<Set<string>> {
  const found = new Set<string>();
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.config.rawBucket, Prefix: prefix, ContinuationToken: token }),
      { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
    );
    for (const object of page.Contents ?? []) {
      const got = await deps.s3.send(
        new GetObjectCommand({ Bucket: deps.config.rawBucket, Key: object.Key }),
        {
          abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        },
      );
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      for (const line of gunzipSync(bytes).toString('utf8').split('\n')) {
        if (!line) continue;
        const id = (JSON.parse(line) as { event_id?: unknown }).event_id;
        if (typeof id === 'string' && wanted.has(id)) found.add(id);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/**
 * Counts the data set's events in the raw partitions of today and yesterday (UTC): a post shortly
 * before midnight lands in two days, and the ETL of one day would then miss some.
 */
export async function countDelivered(deps: DriverDeps, spec: DataSpec): Promise<CountDeliveredResult> {
  const now = deps.now();
  const wanted = new Set(generate(spec, now).events.map((event) => event.event_id as string));
  const days = [utcDay(now), utcDay(now - DAY_MS)];
  const counts = new Map<string, number>();
  for (const day of days) counts.set(day, (await eventIdsUnder(deps, rawDayPrefix(day), wanted)).size);
  const [day, delivered] = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1))[0];
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
  return {
    expected: wanted.size,
    day,
    delivered,
    missing: wanted.size - delivered,
    elsewhere: total - delivered,
  };
}

export async function drive(deps: DriverDeps, request: DriverRequest): Promise<unknown> {
  switch (request?.op) {
    case 'recommendations': {
      const { userId, limit } = request;
      if (typeof userId !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(userId))
        throw new BadRequestError('userId must be 1-64 characters of A-Z a-z 0-9 _ . -');
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new BadRequestError('limit must be in [1, 100]');
      return recommendations(deps, userId, limit);
    }
    case 'import-accounts':
      return importAccounts(deps, dataSpec(request));
    case 'post-events':
      return postEvents(deps, dataSpec(request));
    case 'count-delivered':
      return countDelivered(deps, dataSpec(request));
    default:
      throw new BadRequestError(
        `op must be one of recommendations, import-accounts, post-events, count-delivered; got ${JSON.stringify((request as { op?: unknown })?.op)}`,
      );
  }
}

let clients: { s3: S3Client; lambda: LambdaClient } | undefined;

export const handler = async (
  request: DriverRequest,
  context: { getRemainingTimeInMillis(): number },
): Promise<unknown> => {
  clients ??= {
    s3: new S3Client({}),
    lambda: new LambdaClient({}),
  };
  return drive(
    {
      config: configFromEnv(process.env),
      ...clients,
      fetch,
      now: Date.now,
      remainingMs: () => context.getRemainingTimeInMillis(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
    request,
  );
};
