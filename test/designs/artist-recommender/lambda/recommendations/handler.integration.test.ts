/**
 * The handler against a real redis-server configured like ElastiCache Serverless (TLS, cluster mode),
 * with the SageMaker runtime mocked at the client boundary.
 */
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import type { Cluster } from 'iovalkey';
import { createHandler } from '../../../../../lambda/artist-recommender/recommendations/handler';
import { assignVariant } from '../../../../../lambda/platform/realtime/variant';
import { POINTER_KEY, userKey } from '../../../../../lambda/artist-recommender/shared/cache-layout';
import {
  settleWithin,
  sleep,
  startRedisCluster,
  type LocalRedisCluster,
  type Settled,
} from '../../../../support/redis-cluster';
import {
  TWO_VARIANTS,
  artistId,
  bodyOf,
  connectAdmin,
  lambdaContext,
  modelVersionOf,
  recommendationsEvent,
  seedVersion,
  servingConfig,
  userIds,
} from '../../support/serving-fixtures';

interface Answer {
  userId: string;
  requestId: string;
  source: string;
  variant: string;
  modelVersion: string;
  items: { artistId: string; score: number }[];
}

const sageMaker = apiCheckedMockClient(SageMakerRuntimeClient);
const modelBody = (modelVersion: string, items: { artistId: string; score: number }[]) =>
  new TextEncoder().encode(JSON.stringify({ model_version: modelVersion, items })) as never;
/** The JSON request the function sent the endpoint, from its bytes. */
const sentBody = (input: { Body?: unknown }) =>
  JSON.parse(new TextDecoder().decode(input.Body as Uint8Array)) as { user_id: string; k: number };

let redis: LocalRedisCluster;
let admin: Cluster;
let stdout: StdoutCapture;
const handlers: { close(): void }[] = [];

function handlerWith(overrides: Record<string, string | undefined> = {}) {
  const handler = createHandler(servingConfig(redis, overrides), { cacheCa: redis.ca });
  handlers.push(handler);
  return handler;
}

async function get(handler: ReturnType<typeof handlerWith>, userId: string, limit?: number) {
  const result = await handler(
    recommendationsEvent(userId, limit === undefined ? null : { limit: [String(limit)] }),
    lambdaContext,
  );
  return { result, body: bodyOf<Answer>(result) };
}

beforeAll(async () => {
  stdout = captureStdout();
  redis = await startRedisCluster();
  admin = await connectAdmin(redis);
});

afterAll(async () => {
  for (const handler of handlers) handler.close();
  admin?.disconnect();
  stdout?.restore();
  sageMaker.restore();
  await redis?.stop();
});

beforeEach(async () => {
  sageMaker.reset();
  await admin.flushall();
  await seedVersion(admin, { version: 'v1', userIds: userIds(50), itemsPerUser: 20 });
});

describe('cache hit', () => {
  it('answers from the cache with the threshold and the limit applied', async () => {
    const handler = handlerWith({ SCORE_THRESHOLD: '0.5', MODEL_ENDPOINT_NAME: 'recommender' });
    const { result, body } = await get(handler, 'user-7', 8);
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json' });
    const variant = assignVariant('user-7', TWO_VARIANTS);
    expect(body).toEqual({
      userId: 'user-7',
      requestId: expect.stringMatching(/^req-/),
      source: 'cache',
      variant,
      modelVersion: modelVersionOf('v1'),
      items: Array.from({ length: 8 }, (_, rank) => ({
        artistId: artistId('v1', variant, rank),
        score: Math.round((0.95 - rank * 0.05) * 100) / 100,
      })),
    });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  it('writes no metric line for a hit, and one for a miss served by the model', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: modelBody('m1', [{ artistId: 'a', score: 0.9 }]) });
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender' });
    const before = stdout.metricNames().length;
    await get(handler, 'user-7');
    expect(stdout.metricNames().length).toBe(before);
    await get(handler, 'someone-new');
    expect(stdout.metricNames().slice(before)).toEqual(['ServedFromModel']);
  });

  it('drops every item below the threshold, even when the limit asks for more', async () => {
    const handler = handlerWith({ SCORE_THRESHOLD: '0.5' });
    const { body } = await get(handler, 'user-3', 100);
    // Scores 0.95, 0.90, ... 0.50 are kept: 10 items; 0.45 and below are dropped.
    expect(body.items).toHaveLength(10);
    expect(Math.min(...body.items.map((i) => i.score))).toBeGreaterThanOrEqual(0.5);
  });

  it('serves the default limit without a limit parameter', async () => {
    const handler = handlerWith({ SCORE_THRESHOLD: '-1', DEFAULT_LIMIT: '4' });
    const { body } = await get(handler, 'user-3');
    expect(body.items).toHaveLength(4);
  });

  it('gives every variant its own list', async () => {
    const handler = handlerWith({ SCORE_THRESHOLD: '-1' });
    const seen = new Set<string>();
    for (const userId of userIds(50)) {
      const { body } = await get(handler, userId, 1);
      expect(body.items[0].artistId).toBe(artistId('v1', body.variant, 0));
      seen.add(body.variant);
    }
    expect(seen).toEqual(new Set(['champion', 'challenger']));
  });
});

describe('cache miss', () => {
  it('asks the endpoint on the user variant, answers from the model and caches the answer', async () => {
    const items = [
      { artistId: 'fresh-1', score: 0.7 },
      { artistId: 'fresh-0', score: 0.9 },
      { artistId: 'fresh-low', score: 0.1 },
    ];
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: modelBody('model-live', items) });
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', MODEL_TOP_K: '50' });
    const userId = 'new-user-1';
    const variant = assignVariant(userId, TWO_VARIANTS);

    const first = await get(handler, userId, 10);
    expect(first.result.statusCode).toBe(200);
    expect(first.body).toMatchObject({ source: 'model', variant, modelVersion: 'model-live' });
    expect(first.body.items).toEqual([
      { artistId: 'fresh-0', score: 0.9 },
      { artistId: 'fresh-1', score: 0.7 },
    ]);
    const calls = sageMaker.commandCalls(InvokeEndpointCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toMatchObject({ EndpointName: 'recommender', TargetVariant: variant });
    expect(sentBody(input)).toEqual({ user_id: userId, k: 50 });

    const second = await get(handler, userId, 10);
    expect(second.body).toMatchObject({ source: 'cache', variant, modelVersion: 'model-live' });
    expect(second.body.items).toEqual(first.body.items);
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
    const ttl = await admin.ttl(userKey('v1', variant, userId));
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('falls back to the popularity list when the endpoint fails', async () => {
    sageMaker.on(InvokeEndpointCommand).rejects(new Error('ModelError: 500'));
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', SCORE_THRESHOLD: '-1' });
    const { result, body } = await get(handler, 'new-user-2', 5);
    expect(result.statusCode).toBe(200);
    expect(body).toMatchObject({ source: 'fallback', modelVersion: modelVersionOf('v1') });
    expect(body.items.map((i) => i.artistId)).toEqual(
      [0, 1, 2, 3, 4].map((rank) => artistId('v1', 'popular', rank)),
    );
  });

  it('falls back when the endpoint answers off the contract', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: modelBody('m', [{ artistId: '', score: 3 }]) });
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender' });
    expect((await get(handler, 'new-user-3')).body.source).toBe('fallback');
  });

  it('falls back at the timeout when the endpoint hangs until aborted', async () => {
    let aborted = 0;
    sageMaker.send.callsFake(
      (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
        new Promise((_, reject) =>
          options?.abortSignal?.addEventListener('abort', () => {
            aborted++;
            reject(new Error('Request aborted'));
          }),
        ),
    );
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', MODEL_TIMEOUT_MS: '50' });
    await get(handler, 'user-1'); // connects to the cache and loads the SDK outside the measured call
    const started = Date.now();
    const { body } = await get(handler, 'new-user-4');
    expect(body.source).toBe('fallback');
    // Generous for a loaded CI machine; the source already proves the endpoint was given up on.
    expect(Date.now() - started).toBeLessThan(1500);
    expect(aborted).toBe(1);
  });

  it('falls back at the timeout when the endpoint answers too late', async () => {
    sageMaker.send.callsFake(
      () =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve({ $metadata: {}, Body: modelBody('late', [{ artistId: 'late', score: 0.9 }]) }),
            400,
          ),
        ),
    );
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', MODEL_TIMEOUT_MS: '50' });
    await get(handler, 'user-1');
    const started = Date.now();
    const { body } = await get(handler, 'new-user-5');
    expect(body.source).toBe('fallback');
    expect(Date.now() - started).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 2000 - (Date.now() - started) + 300));
    // The late answer is dropped, not cached.
    expect(await admin.exists(userKey('v1', assignVariant('new-user-5', TWO_VARIANTS), 'new-user-5'))).toBe(
      0,
    );
  });

  it('falls back without an endpoint configured', async () => {
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: undefined });
    const { result, body } = await get(handler, 'new-user-6');
    expect(result.statusCode).toBe(200);
    expect(body.source).toBe('fallback');
    expect(sageMaker.calls()).toHaveLength(0);
  });

  it('falls back when the user key is corrupt: malformed JSON, or another type than a string', async () => {
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: undefined });
    const key = (userId: string) => userKey('v1', assignVariant(userId, TWO_VARIANTS), userId);
    await admin.set(key('user-1'), '{"modelVersion":');
    await admin.del(key('user-2'));
    // GET on a hash is answered WRONGTYPE: the key is bad, the cache is fine.
    await admin.hset(key('user-2'), 'modelVersion', 'm');
    for (const userId of ['user-1', 'user-2']) {
      const { result, body } = await get(handler, userId, 3);
      expect({ userId, status: result.statusCode, source: body.source }).toEqual({
        userId,
        status: 200,
        source: 'fallback',
      });
      expect(body.items.map((i) => i.artistId)).toEqual(
        [0, 1, 2].map((rank) => artistId('v1', 'popular', rank)),
      );
    }
  });

  it('answers 503 with Retry-After before any set is loaded and without an endpoint', async () => {
    await admin.del(POINTER_KEY);
    const handler = handlerWith({ RETRY_AFTER_SECONDS: '7' });
    const { result, body } = await get(handler, 'user-1');
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'retry-after': '7', 'content-type': 'application/json' });
    expect(body).toEqual({ error: 'Unavailable', message: expect.any(String) });
  });
});

describe('cache outage', () => {
  it('serves from the model, then 503, while the cache is down, and recovers after a restart', async () => {
    const answer = { Body: modelBody('model-live', [{ artistId: 'live-1', score: 0.9 }]) };
    sageMaker.on(InvokeEndpointCommand).resolves(answer);
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', RETRY_AFTER_SECONDS: '9' });
    expect((await get(handler, 'user-1')).body.source).toBe('cache');

    await redis.kill();
    try {
      const started = Date.now();
      const viaModel = await get(handler, 'user-1');
      expect(viaModel.result.statusCode).toBe(200);
      expect(viaModel.body).toMatchObject({ source: 'model', modelVersion: 'model-live' });
      expect(Date.now() - started).toBeLessThan(3000);

      sageMaker.reset();
      sageMaker.on(InvokeEndpointCommand).rejects(new Error('endpoint down too'));
      for (const userId of ['user-1', 'user-2', 'new-user']) {
        const down = await get(handler, userId);
        expect(down.result.statusCode).toBe(503);
        expect(down.result.headers).toMatchObject({ 'retry-after': '9', 'content-type': 'application/json' });
        expect(down.body).toEqual({ error: 'Unavailable', message: expect.any(String) });
      }
    } finally {
      await redis.restart();
    }
    admin.disconnect();
    admin = await connectAdmin(redis);
    await seedVersion(admin, { version: 'v1', userIds: userIds(50) });

    const recovered = await get(handler, 'user-1');
    expect(recovered.result.statusCode).toBe(200);
    expect(recovered.body.source).toBe('cache');
    expect(stdout.metricNames()).toEqual(expect.arrayContaining(['CacheError', 'ModelError', 'Unavailable']));
  });
});

describe('cache that stops answering', () => {
  it('answers from the model once the cache commands reach their deadline', async () => {
    sageMaker
      .on(InvokeEndpointCommand)
      .resolves({ Body: modelBody('model-live', [{ artistId: 'a', score: 0.9 }]) });
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', POINTER_TTL_MS: '0' });
    const config = servingConfig(redis);
    expect((await get(handler, 'user-1')).body.source).toBe('cache');
    const pauseMs = 10 * config.cacheCommandTimeoutMs;
    // The server holds every command for the pause: connected, and silent.
    await admin.nodes('master')[0].call('CLIENT', 'PAUSE', String(pauseMs), 'ALL');
    const started = Date.now();
    const settled = await settleWithin(get(handler, 'user-2'), pauseMs);
    expect(settled).toMatchObject({ outcome: 'value', value: { body: { source: 'model' } } });
    // One command (the pointer read) waits for its deadline; the model's answer is not cached
    // because the cache is given up on for the rest of the request.
    expect(Date.now() - started).toBeGreaterThanOrEqual(config.cacheCommandTimeoutMs - 5);
    expect(Date.now() - started).toBeLessThan(pauseMs);
    await sleep(pauseMs - (Date.now() - started) + 100);
  });
});

describe('cache restart with requests in flight', () => {
  it('answers every request within the function timeout, then serves from the cache again', async () => {
    const overrides = { MODEL_ENDPOINT_NAME: 'recommender', RETRY_AFTER_SECONDS: '9' };
    const config = servingConfig(redis, overrides);
    // lib/config/capacity.ts sizes the function timeout at twice the worst path: a connection, four
    // cache commands and the model call.
    const functionTimeoutMs =
      2 * (config.cacheConnectTimeoutMs + 4 * config.cacheCommandTimeoutMs + config.modelTimeoutMs);
    // The endpoint answers users with an even number and fails the others, so that while the cache is
    // down both documented answers are given: the model's, and 503 with Retry-After.
    sageMaker.on(InvokeEndpointCommand).callsFake(async (input: { Body?: unknown }) => {
      const userId = String(sentBody(input).user_id);
      if (Number(userId.split('-')[1]) % 2 === 1) throw new Error('endpoint down too');
      return { Body: modelBody('model-live', [{ artistId: `live-${userId}`, score: 0.9 }]) };
    });
    const handler = handlerWith(overrides);
    expect((await get(handler, 'user-1')).body.source).toBe('cache');

    type Result = Awaited<ReturnType<typeof get>>;
    const outcomes: { sentWhile: 'restarting' | 'back'; userId: string; settled: Settled<Result> }[] = [];
    let phase: 'restarting' | 'back' = 'restarting';
    let stopping = false;
    const worker = async (index: number) => {
      for (let i = 0; !stopping; i++) {
        const userId = `user-${((index * 7 + i) % 50) + 1}`;
        const sentWhile = phase;
        outcomes.push({
          sentWhile,
          userId,
          settled: await settleWithin(get(handler, userId), functionTimeoutMs),
        });
        await sleep(5);
      }
    };
    const servedFromCacheAgain = () =>
      outcomes.some(
        ({ sentWhile, settled }) =>
          sentWhile === 'back' && settled.outcome === 'value' && settled.value.body.source === 'cache',
      );

    const workers = Array.from({ length: 8 }, (_, index) => worker(index));
    try {
      await sleep(50);
      // Stopped, started again on the same port, and held answering but not serving long enough for
      // a connection attempt to run out of time in that state.
      await redis.restart({ beforeServing: () => sleep(2 * config.cacheConnectTimeoutMs) });
      admin.disconnect();
      admin = await connectAdmin(redis);
      await seedVersion(admin, { version: 'v1', userIds: userIds(50) });
      phase = 'back';
      // The container recovers on its own, within a connection attempt and a pointer read.
      const recoveryDeadline =
        Date.now() + config.cacheConnectTimeoutMs + config.pointerTtlMs + functionTimeoutMs;
      while (!servedFromCacheAgain() && Date.now() < recoveryDeadline) await sleep(20);
    } finally {
      stopping = true;
      await Promise.all(workers);
    }

    const problems: string[] = [];
    const seen = new Map<string, number>();
    for (const { sentWhile, userId, settled } of outcomes) {
      if (settled.outcome !== 'value') {
        problems.push(`${userId} (${sentWhile}): ${settled.outcome} after ${settled.ms} ms`);
        continue;
      }
      const { result, body } = settled.value;
      const kind = result.statusCode === 200 ? body.source : String(result.statusCode);
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      const allowed =
        (result.statusCode === 200 && ['cache', 'model', 'fallback'].includes(body.source)) ||
        (result.statusCode === 503 &&
          result.headers?.['retry-after'] === '9' &&
          (body as unknown as { error: string }).error === 'Unavailable');
      if (!allowed)
        problems.push(`${userId} (${sentWhile}): ${result.statusCode} ${result.body.slice(0, 200)}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // The requests really were in flight through the outage: both degraded answers were given.
    expect(seen.get('model')).toBeGreaterThan(0);
    expect(seen.get('503')).toBeGreaterThan(0);
    expect(servedFromCacheAgain()).toBe(true);
  });
});

describe('version swap', () => {
  it('never mixes two sets while the pointer flips under concurrent reads', async () => {
    const users = userIds(200);
    await seedVersion(admin, { version: 'v2', userIds: users, activate: false });
    await seedVersion(admin, { version: 'v1', userIds: users, activate: true });
    const handler = handlerWith({ POINTER_TTL_MS: '0', SCORE_THRESHOLD: '-1' });

    let flipping = true;
    let flips = 0;
    const flipper = (async () => {
      while (flipping) {
        await admin.set(POINTER_KEY, flips % 2 === 0 ? 'v2' : 'v1');
        flips++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const seen = new Map<string, number>();
    try {
      for (let round = 0; round < 40; round++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) => get(handler, users[(round * 50 + i) % users.length], 20)),
        );
        for (const { result, body } of answers) {
          expect(result.statusCode).toBe(200);
          expect(body.source).toBe('cache');
          const version = body.modelVersion === modelVersionOf('v1') ? 'v1' : 'v2';
          expect(body.modelVersion).toBe(modelVersionOf(version));
          expect(body.items).toHaveLength(20);
          expect(body.items.map((i) => i.artistId)).toEqual(
            Array.from({ length: 20 }, (_, rank) => artistId(version, body.variant, rank)),
          );
          seen.set(version, (seen.get(version) ?? 0) + 1);
        }
      }
    } finally {
      flipping = false;
      await flipper;
    }
    expect(flips).toBeGreaterThan(10);
    expect(seen.get('v1')).toBeGreaterThan(0);
    expect(seen.get('v2')).toBeGreaterThan(0);
  });
});
