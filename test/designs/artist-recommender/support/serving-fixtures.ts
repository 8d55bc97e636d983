/**
 * Helpers shared by the serving tests, `npm run serve:local` and `npm run bench:serving`: the
 * environment the stack gives the function, API Gateway events, and seed data written through
 * `lambda/shared/cache-layout` (never through hand-written key strings).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Cluster } from 'iovalkey';
import { connectCacheClient } from '../../../../lambda/platform/shared/cache-client';
import {
  POINTER_KEY,
  encodeList,
  popularKey,
  userKey,
  type RecommendationList,
  type ScoredItem,
} from '../../../../lambda/artist-recommender/shared/cache-layout';
import {
  readServingConfig,
  type ServingConfig,
} from '../../../../lambda/artist-recommender/recommendations/config';
import type { WeightedVariant } from '../../../../lambda/platform/realtime/variant';

export interface CacheEndpoint {
  readonly host: string;
  readonly port: number;
  readonly ca?: string;
}

export const TWO_VARIANTS: readonly WeightedVariant[] = [
  { name: 'champion', weight: 0.8 },
  { name: 'challenger', weight: 0.2 },
];

/** The variables the serving stack sets, pointed at a local cache; `overrides` win (undefined deletes). */
export function servingEnv(
  cache: CacheEndpoint,
  overrides: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    CACHE_HOST: cache.host,
    CACHE_PORT: String(cache.port),
    CACHE_CONNECT_TIMEOUT_MS: '1000',
    CACHE_COMMAND_TIMEOUT_MS: '200',
    POINTER_TTL_MS: '1000',
    MODEL_TIMEOUT_MS: '1000',
    MODEL_ANSWER_TTL_SECONDS: '3600',
    AB_VARIANTS: JSON.stringify(TWO_VARIANTS),
    SCORE_THRESHOLD: '0.2',
    DEFAULT_LIMIT: '10',
    MODEL_TOP_K: '100',
    RETRY_AFTER_SECONDS: '5',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function servingConfig(
  cache: CacheEndpoint,
  overrides: Record<string, string | undefined> = {},
): ServingConfig {
  return readServingConfig(servingEnv(cache, overrides));
}

/** An API Gateway REST (v1) proxy event for GET /v1/users/{userId}/recommendations. */
export function recommendationsEvent(
  userId: string | undefined,
  query: Record<string, string[]> | null = null,
  method = 'GET',
): APIGatewayProxyEvent {
  const queryString = query
    ? Object.fromEntries(Object.entries(query).map(([name, values]) => [name, values[values.length - 1]]))
    : null;
  return {
    resource: '/v1/users/{userId}/recommendations',
    path: `/v1/users/${userId ?? ''}/recommendations`,
    httpMethod: method,
    headers: {},
    multiValueHeaders: {},
    pathParameters: userId === undefined ? null : { userId },
    queryStringParameters: queryString,
    multiValueQueryStringParameters: query,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: `req-${Math.random().toString(36).slice(2)}`,
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext = { awsRequestId: 'local-request' };

/**
 * A client for seeding and inspecting the cache: the serving function's TLS and cluster options, with
 * longer deadlines than the function's. It is the harness, not the subject, and on a busy CI machine a
 * seeding pipeline can wait longer than a request may.
 */
export function connectAdmin(cache: CacheEndpoint): Promise<Cluster> {
  return connectCacheClient({ ...cache, connectTimeoutMs: 5000, commandTimeoutMs: 10_000 });
}

/** Artist ids carry their version and variant, so a test can tell which list an answer came from. */
export function artistId(version: string, variant: string, rank: number): string {
  return `${version}.${variant}.artist-${rank}`;
}

/** A ranked list of `count` items with scores falling from 0.95 by `step`; best first. */
export function rankedList(
  version: string,
  variant: string,
  count: number,
  step = 0.05,
  modelVersion = modelVersionOf(version),
): RecommendationList {
  const items: ScoredItem[] = [];
  for (let rank = 0; rank < count; rank++) {
    const score = Math.round((0.95 - rank * step) * 1e6) / 1e6;
    items.push({ artistId: artistId(version, variant, rank), score: Math.max(-1, score) });
  }
  return { modelVersion, items };
}

export function modelVersionOf(version: string): string {
  return `model-${version}`;
}

export interface SeedOptions {
  readonly version: string;
  readonly userIds: readonly string[];
  readonly variants?: readonly WeightedVariant[];
  readonly itemsPerUser?: number;
  readonly scoreStep?: number;
  /** Swap the pointer to this version once its keys are written (default true). */
  readonly activate?: boolean;
}

/**
 * Writes one recommendation set the way the batch loader does: every user's list for every variant,
 * the popularity list, then the pointer, last.
 */
export async function seedVersion(client: Cluster, options: SeedOptions): Promise<void> {
  const { version, userIds, variants = TWO_VARIANTS, itemsPerUser = 20, scoreStep = 0.05 } = options;
  const writes: Promise<unknown>[] = [];
  for (const userId of userIds) {
    for (const { name } of variants) {
      writes.push(
        client.set(
          userKey(version, name, userId),
          encodeList(rankedList(version, name, itemsPerUser, scoreStep)),
        ),
      );
      if (writes.length >= 500) await Promise.all(writes.splice(0));
    }
  }
  writes.push(client.set(popularKey(version), encodeList(rankedList(version, 'popular', 50, 0.01))));
  await Promise.all(writes);
  if (options.activate ?? true) await client.set(POINTER_KEY, version);
}

export function userIds(count: number, prefix = 'user-'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** Parses a handler answer's JSON body. */
export function bodyOf<T = Record<string, unknown>>(result: { body: string }): T {
  return JSON.parse(result.body) as T;
}
