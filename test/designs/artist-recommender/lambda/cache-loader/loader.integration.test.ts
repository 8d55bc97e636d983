/**
 * The cache loader against a real redis-server configured like ElastiCache Serverless (TLS, cluster
 * mode), with S3 mocked at the client boundary. Bodies stream from generators, so a set of 100k users
 * is never held whole by the test either.
 */
import '../../../../support/powertools-env';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import type { Cluster } from 'iovalkey';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readLoaderConfig } from '../../../../../lambda/artist-recommender/cache-loader/config';
import { createHandler } from '../../../../../lambda/artist-recommender/cache-loader/handler';
import {
  TooManyBadLinesError,
  loadCache,
  type LoadRequest,
  type LoadSettings,
} from '../../../../../lambda/artist-recommender/cache-loader/load';
import { keySlot } from '../../../../../lambda/artist-recommender/cache-loader/slots';
import { deriveVersion } from '../../../../../lambda/artist-recommender/cache-loader/version';
import { createHandler as createServingHandler } from '../../../../../lambda/artist-recommender/recommendations/handler';
import { CacheRecommendationStore } from '../../../../../lambda/artist-recommender/recommendations/recommendation-store';
import { CacheConnectError, connectCacheClient } from '../../../../../lambda/platform/shared/cache-client';
import {
  POINTER_KEY,
  decodeList,
  loadedMarkerKey,
  loadingKey,
  popularKey,
  userKey,
  versionKeyPattern,
} from '../../../../../lambda/artist-recommender/shared/cache-layout';
import {
  popularityJson,
  popularityObject,
  recommendationChunks,
  recommendationsObject,
  userIdOf,
  type SetSpec,
} from '../../support/cache-loader-fixtures';
import { settleWithin, startRedisCluster, type LocalRedisCluster } from '../../../../support/redis-cluster';
import { bodyOf, lambdaContext, recommendationsEvent, servingConfig } from '../../support/serving-fixtures';

const VARIANT = 'champion';
const REQUEST = {
  bucket: 'pipeline-output',
  recommendationsKey: 'job/recommendations.jsonl',
  popularityKey: 'job/popularity.json',
  variant: VARIANT,
} satisfies LoadRequest;
const SETTINGS: LoadSettings = {
  ...readLoaderConfig({ CACHE_HOST: 'unused', CACHE_PORT: '1' }).settings,
  maxBadLineFraction: 0.01,
  maxReportedBadLines: 4,
};

const s3Mock = apiCheckedMockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
let redis: LocalRedisCluster;
let admin: Cluster;
const clients: Cluster[] = [];

async function connect(commandTimeoutMs = 15_000): Promise<Cluster> {
  const client = await connectCacheClient({
    host: redis.host,
    port: redis.port,
    ca: redis.ca,
    connectTimeoutMs: 5000,
    commandTimeoutMs,
  });
  clients.push(client);
  return client;
}

/** Serves a set from the mocked bucket; `etag` stands for the bytes of the uploaded object. */
function upload(spec: SetSpec, etag: string, options: { gzip?: boolean; body?: () => Readable } = {}) {
  s3Mock.reset();
  s3Mock
    .on(GetObjectCommand, { Key: REQUEST.popularityKey })
    .callsFake(() => popularityObject(spec, `"p-${etag}"`));
  s3Mock
    .on(GetObjectCommand, { Key: REQUEST.recommendationsKey })
    .callsFake(() =>
      options.body
        ? { Body: options.body(), ETag: `"${etag}"` }
        : recommendationsObject(spec, `"${etag}"`, options.gzip),
    );
}

/** Every key of a version, counted by SCAN on every master, and how many of them carry no TTL. */
async function versionKeys(version: string): Promise<{ total: number; persistent: number }> {
  let total = 0;
  let persistent = 0;
  for (const node of admin.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', versionKeyPattern(version), 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = node.pipeline();
      for (const key of keys) pipeline.ttl(key);
      for (const [, ttl] of (await pipeline.exec()) ?? []) if (ttl === -1) persistent++;
      total += keys.length;
    } while (cursor !== '0');
  }
  return { total, persistent };
}

async function listOf(version: string, index: number) {
  return decodeList(await admin.get(userKey(version, VARIANT, userIdOf(index))));
}

/** Counts the SETs a client sends to the pointer key. */
function countPointerSets(client: Cluster): () => number {
  const original = client.set.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let count = 0;
  (client as unknown as { set: (...args: unknown[]) => Promise<unknown> }).set = (...args: unknown[]) => {
    if (args[0] === POINTER_KEY) count++;
    return original(...args);
  };
  return () => count;
}

beforeAll(async () => {
  redis = await startRedisCluster();
  admin = await connect();
});

beforeEach(async () => {
  await Promise.all(admin.nodes('master').map((node) => node.flushall()));
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  s3Mock.restore();
  await redis?.stop();
});

describe('a 100,000-user load', () => {
  const users = 100_000;
  // The set being replaced only needs to cover the users the readers ask for.
  const firstUsers = 20_000;
  const first: SetSpec = { modelVersion: 'job-2026-11-19', users: firstUsers, itemPrefix: 'old-' };
  const second: SetSpec = { modelVersion: 'job-2026-11-26', users, itemPrefix: 'new-' };

  it('writes every key, swaps once while readers only ever see whole sets, and reruns as a no-op', async () => {
    const loader = await connect();
    upload(first, 'etag-1');
    const v1 = await loadCache(REQUEST, { client: loader, s3, settings: SETTINGS });
    expect(v1).toMatchObject({ previousVersion: null, users: firstUsers, swapped: true, expiredKeys: 0 });

    // Readers resolve the pointer like the serving function (reused for 1 s), then read one key.
    const reader = await connect(2000);
    const store = new CacheRecommendationStore(() => Promise.resolve(reader), 1000);
    // The id the second load will derive, known up front so the readers can check what they see.
    const v2Version = deriveVersion({
      modelVersion: second.modelVersion,
      recommendationsEtag: '"etag-2"',
      popularityEtag: '"p-etag-2"',
      variant: VARIANT,
    });
    const expected = new Map([
      [v1.version, first],
      [v2Version, second],
    ]);
    const problems: string[] = [];
    const seen = new Map<string, number>();
    let loading = true;
    let reads = 0;
    let timedOut = 0;
    const readLoop = (async () => {
      let lastSeen = v1.version;
      let settledAt: number | undefined;
      for (let i = 0; loading || settledAt === undefined || Date.now() - settledAt < 1200; i++) {
        if (!loading) settledAt ??= Date.now();
        const index = (i * 7919) % firstUsers;
        let version: string | undefined;
        let list: Awaited<ReturnType<typeof store.userList>>;
        try {
          version = await store.currentVersion();
          list = version === undefined ? undefined : await store.userList(version, VARIANT, userIdOf(index));
        } catch (error) {
          // A read past the serving function's deadline falls back there (tested with the handler);
          // on a busy machine the loader's batches can delay one. What this test checks is what a
          // read that does answer sees.
          if (!(error instanceof Error) || error.message !== 'Command timed out') throw error;
          timedOut++;
          continue;
        }
        reads++;
        if (version === undefined || !list) {
          problems.push(`no list for user ${index} under ${version}`);
          continue;
        }
        seen.set(version, (seen.get(version) ?? 0) + 1);
        const spec = expected.get(version);
        if (!spec) problems.push(`pointer names unknown version ${version}`);
        else if (
          list.modelVersion !== spec.modelVersion ||
          !list.items.every((item) => item.artistId.startsWith(spec.itemPrefix))
        ) {
          problems.push(`user ${index} under ${version} holds another set's list`);
        }
        if (version !== lastSeen && lastSeen !== v1.version) problems.push('the pointer moved back');
        lastSeen = version;
      }
    })();

    upload(second, 'etag-2');
    const pointerSets = countPointerSets(loader);
    const loadPromise = loadCache(REQUEST, { client: loader, s3, settings: SETTINGS });
    const v2 = await loadPromise.then(
      (summary) => {
        loading = false;
        return summary;
      },
      (error: unknown) => {
        loading = false;
        throw error;
      },
    );
    await readLoop;

    expect(v2).toMatchObject({ previousVersion: v1.version, users, badLines: 0, swapped: true });
    expect(v2.version).toBe(v2Version);
    expect(v2.version).not.toBe(v1.version);
    expect(pointerSets()).toBe(1);
    expect(await admin.get(POINTER_KEY)).toBe(v2.version);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(reads).toBeGreaterThan(500);
    expect(timedOut).toBeLessThan(reads);
    expect(seen.get(v1.version)).toBeGreaterThan(0);
    expect(seen.get(v2.version)).toBeGreaterThan(0);

    // Every user, the popularity list and the marker; the loading key is gone.
    expect(await versionKeys(v2.version)).toEqual({ total: users + 2, persistent: users + 2 });
    expect(await admin.exists(loadingKey(v2.version))).toBe(0);
    expect(decodeList(await admin.get(popularKey(v2.version)))?.items[0].artistId).toBe('new-0');
    expect(JSON.parse((await admin.get(loadedMarkerKey(v2.version))) ?? '{}')).toMatchObject({
      modelVersion: second.modelVersion,
      variant: VARIANT,
      users,
      badLines: 0,
    });
    expect((await listOf(v2.version, users - 1))?.modelVersion).toBe(second.modelVersion);

    // The replaced version stays readable for the grace period, then goes.
    expect(v2.expiredKeys).toBe(firstUsers + 2);
    expect(await versionKeys(v1.version)).toEqual({ total: firstUsers + 2, persistent: 0 });
    const ttl = await admin.ttl(userKey(v1.version, VARIANT, userIdOf(5)));
    expect(ttl).toBeGreaterThan(SETTINGS.graceSeconds - 60);
    expect(ttl).toBeLessThanOrEqual(SETTINGS.graceSeconds);

    // A rerun of the same load (a Step Functions retry) changes nothing.
    upload(second, 'etag-2');
    const rerun = await loadCache(REQUEST, { client: loader, s3, settings: SETTINGS });
    expect(rerun).toMatchObject({ version: v2.version, previousVersion: v2.version, users, swapped: false });
    expect(rerun.expiredKeys).toBe(0);
    expect(pointerSets()).toBe(1);
    expect(await admin.get(POINTER_KEY)).toBe(v2.version);
    expect(await admin.ttl(userKey(v2.version, VARIANT, userIdOf(users - 1)))).toBe(-1);
  }, 90_000);
});

describe('failures', () => {
  const old: SetSpec = { modelVersion: 'job-old', users: 3000, itemPrefix: 'old-' };
  const next: SetSpec = { modelVersion: 'job-new', users: 3000, itemPrefix: 'new-' };

  async function serveOld(client: Cluster) {
    upload(old, 'etag-old');
    return loadCache(REQUEST, { client, s3, settings: SETTINGS });
  }

  async function expectOldServing(version: string) {
    expect(await admin.get(POINTER_KEY)).toBe(version);
    for (const index of [0, 1500, 2999]) {
      expect((await listOf(version, index))?.modelVersion).toBe(old.modelVersion);
    }
    expect((await versionKeys(version)).persistent).toBe(old.users + 2);
  }

  it('keeps the old version serving when the S3 stream fails mid-load, and a rerun completes', async () => {
    const loader = await connect();
    const { version: oldVersion } = await serveOld(loader);

    upload({ ...next, failAfterLines: 1700 }, 'etag-new');
    await expect(loadCache(REQUEST, { client: loader, s3, settings: SETTINGS })).rejects.toThrow(
      'simulated S3 read failure',
    );
    await expectOldServing(oldVersion);
    // The failed version's keys were given a TTL instead of waiting for the next load.
    const failedVersion = (await admin.keys('recs:v:*'))
      .map((key) => key.split(':')[2])
      .find((version) => version !== oldVersion);
    expect(failedVersion).toBeDefined();
    const partial = await versionKeys(failedVersion as string);
    expect(partial.total).toBeGreaterThanOrEqual(1000);
    expect(partial.persistent).toBe(0);

    // The retry derives the same version, rewrites every key and swaps.
    upload(next, 'etag-new');
    const retry = await loadCache(REQUEST, { client: loader, s3, settings: SETTINGS });
    expect(retry).toMatchObject({ version: failedVersion, previousVersion: oldVersion, swapped: true });
    expect(await versionKeys(retry.version)).toEqual({ total: next.users + 2, persistent: next.users + 2 });
  });

  it('keeps the old version serving when the loader loses its connection mid-load; the next load collects the leftovers', async () => {
    const { version: oldVersion } = await serveOld(await connect());
    const doomed = await connect();
    let chunks = 0;
    upload(next, 'etag-crash', {
      // The loader "dies" after a third of the file: its connection goes away under it.
      body: () =>
        Readable.from(
          (function* () {
            for (const chunk of recommendationChunks({ ...next, linesPerChunk: 100 })) {
              if (++chunks === 20) doomed.disconnect();
              yield Buffer.from(chunk);
            }
          })(),
        ),
    });
    await expect(loadCache(REQUEST, { client: doomed, s3, settings: SETTINGS })).rejects.toThrow();
    await expectOldServing(oldVersion);
    const crashedVersion = (await admin.keys('recs:v:*:loading'))[0]?.split(':')[2];
    expect(crashedVersion).toBeDefined();
    const leftovers = await versionKeys(crashedVersion as string);
    expect(leftovers.total).toBeGreaterThan(0);
    // All but the loading key, which carries its TTL.
    expect(leftovers.persistent).toBe(leftovers.total - 1);

    // Once the crashed loader's claim has run out (its TTL), the next load expires its keys.
    await admin.del(loadingKey(crashedVersion as string));
    upload({ ...next, modelVersion: 'job-newer' }, 'etag-newer');
    const next2 = await loadCache(REQUEST, { client: await connect(), s3, settings: SETTINGS });
    expect(next2.swapped).toBe(true);
    expect(next2.expiredKeys).toBe(old.users + 2 + leftovers.persistent);
    expect((await versionKeys(crashedVersion as string)).persistent).toBe(0);
  });

  it('never expires the keys of a version another loader is writing', async () => {
    const client = await connect();
    const { version: oldVersion } = await serveOld(client);
    await admin.set(userKey('in-progress', VARIANT, 'u1'), 'x');
    await admin.set(loadingKey('in-progress'), '1', 'EX', 60);
    upload(next, 'etag-new');
    const summary = await loadCache(REQUEST, { client, s3, settings: SETTINGS });
    expect(summary.expiredKeys).toBe(old.users + 2);
    expect(await admin.ttl(userKey('in-progress', VARIANT, 'u1'))).toBe(-1);
    expect(await admin.ttl(userKey(oldVersion, VARIANT, userIdOf(1)))).toBeGreaterThan(0);
  });

  it('counts bad lines with their numbers and still loads below the threshold', async () => {
    const client = await connect();
    const good = (index: number) => ({ artistId: `a${index}`, score: 0.5 });
    const bad = new Map<number, string>([
      [3, '{"user_id": "u3", "items": ['],
      [10, JSON.stringify({ user_id: 'bad id', items: [good(1)], model_version: 'job-new' })],
      [
        20,
        JSON.stringify({ user_id: 'u20', items: [{ artistId: 'a', score: 2 }], model_version: 'job-new' }),
      ],
      [30, JSON.stringify({ user_id: 'u30', items: [good(1)], model_version: 'job-other' })],
      [40, ''],
      [50, JSON.stringify({ user_id: 'u50', items: 'a1', model_version: 'job-new' })],
    ]);
    upload({ ...next, replaceLines: bad }, 'etag-bad');
    const summary = await loadCache(REQUEST, { client, s3, settings: SETTINGS });
    expect(summary).toMatchObject({ users: next.users - 6, badLines: 6, swapped: true });
    expect(summary.badLineSamples).toEqual([
      { line: 3, reason: 'not valid JSON' },
      { line: 10, reason: expect.stringContaining('user_id') },
      { line: 20, reason: expect.stringContaining('items[0]') },
      { line: 30, reason: expect.stringContaining('model_version') },
    ]);
    expect(await listOf(summary.version, 2)).toBeUndefined();
    expect(await listOf(summary.version, 3)).toBeDefined();
  });

  it('does not swap when too many lines are bad', async () => {
    const client = await connect();
    const { version: oldVersion } = await serveOld(client);
    const bad = new Map(Array.from({ length: 40 }, (_, i) => [i * 50 + 1, 'not json'] as [number, string]));
    upload({ ...next, replaceLines: bad }, 'etag-worse');
    const failure = await loadCache(REQUEST, { client, s3, settings: SETTINGS }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TooManyBadLinesError);
    expect(failure).toMatchObject({ badLines: 40, users: next.users - 40 });
    expect((failure as TooManyBadLinesError).badLineSamples.map((sample) => sample.line)).toEqual([
      1, 51, 101, 151,
    ]);
    await expectOldServing(oldVersion);
  });

  it('counts a line over the limit as one bad line, streams past it and loads the rest', async () => {
    const client = await connect();
    const long = JSON.stringify({
      user_id: 'too-long',
      items: [{ artistId: 'x'.repeat(SETTINGS.maxLineBytes * 1.5), score: 0.5 }],
      model_version: next.modelVersion,
    });
    // Cut into 64 KiB chunks like an S3 body: the line reaches the reader a piece at a time.
    upload({ ...next, replaceLines: new Map([[1000, long]]), bytesPerChunk: 64 * 1024 }, 'etag-long');
    const summary = await loadCache(REQUEST, { client, s3, settings: SETTINGS });
    expect(summary).toMatchObject({ users: next.users - 1, badLines: 1, swapped: true });
    expect(summary.badLineSamples).toEqual([
      { line: 1000, reason: `line is longer than ${SETTINGS.maxLineBytes} bytes` },
    ]);
    // Line n holds user n - 1: the users on both sides of the long line are loaded.
    expect((await listOf(summary.version, 998))?.modelVersion).toBe(next.modelVersion);
    expect(await listOf(summary.version, 999)).toBeUndefined();
    expect((await listOf(summary.version, 1000))?.modelVersion).toBe(next.modelVersion);
    expect((await listOf(summary.version, next.users - 1))?.modelVersion).toBe(next.modelVersion);
  });

  it('loads a user id seen twice once: the first line is kept, the repeat is a bad line', async () => {
    const client = await connect();
    const line = (artistId: string) =>
      JSON.stringify({
        user_id: userIdOf(5),
        items: [{ artistId, score: 0.9 }],
        model_version: next.modelVersion,
      });
    // Line 6 is user 5's own line; line 2001 (user 2000's) repeats user 5.
    upload(
      {
        ...next,
        replaceLines: new Map([
          [6, line('first')],
          [2001, line('second')],
        ]),
      },
      'etag-dup',
    );
    const summary = await loadCache(REQUEST, { client, s3, settings: SETTINGS });
    expect(summary).toMatchObject({ users: next.users - 1, badLines: 1, swapped: true });
    expect(summary.badLineSamples).toEqual([
      { line: 2001, reason: `user_id "${userIdOf(5)}" already appeared on an earlier line` },
    ]);
    expect((await listOf(summary.version, 5))?.items).toEqual([{ artistId: 'first', score: 0.9 }]);
    expect(await listOf(summary.version, 2000)).toBeUndefined();
    expect(JSON.parse((await admin.get(loadedMarkerKey(summary.version))) ?? '{}')).toMatchObject({
      users: next.users - 1,
      badLines: 1,
    });
    expect((await versionKeys(summary.version)).total).toBe(next.users - 1 + 2);
  });

  it('refuses a popularity list that is not valid before writing anything', async () => {
    const client = await connect();
    s3Mock.reset();
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.from('{}')]), ETag: '"x"' }));
    await expect(loadCache(REQUEST, { client, s3, settings: SETTINGS })).rejects.toThrow('popularity.json');
    expect(await admin.keys('recs:*')).toEqual([]);
  });
});

describe('onlyIfEmpty, the bootstrap load', () => {
  const bootstrap: SetSpec = { modelVersion: 'bootstrap', users: 1000, itemPrefix: 'boot-' };
  const trained: SetSpec = { modelVersion: 'job-trained', users: 1500, itemPrefix: 'trained-' };

  async function keyCount(): Promise<number> {
    const sizes = await Promise.all(admin.nodes('master').map((node) => node.dbsize()));
    return sizes.reduce((sum, size) => sum + size, 0);
  }

  it('loads into an empty cache', async () => {
    upload(bootstrap, 'etag-boot');
    const summary = await loadCache(
      { ...REQUEST, onlyIfEmpty: true },
      { client: await connect(), s3, settings: SETTINGS },
    );
    expect(summary).toMatchObject({ users: bootstrap.users, swapped: true, previousVersion: null });
    expect(summary.skipped).toBeUndefined();
    expect(await admin.get(POINTER_KEY)).toBe(summary.version);
    expect((await listOf(summary.version, 999))?.modelVersion).toBe('bootstrap');
  });

  it('leaves a cache that serves a set untouched, without reading S3', async () => {
    const loader = await connect();
    upload(trained, 'etag-trained');
    const served = await loadCache(REQUEST, { client: loader, s3, settings: SETTINGS });
    const keysBefore = await keyCount();

    upload(bootstrap, 'etag-boot');
    const summary = await loadCache(
      { ...REQUEST, onlyIfEmpty: true },
      { client: loader, s3, settings: SETTINGS },
    );
    expect(summary).toEqual({
      skipped: 'cache already holds a recommendation set',
      version: served.version,
      previousVersion: served.version,
      users: 0,
      usersWithoutItems: 0,
      badLines: 0,
      badLineSamples: [],
      swapped: false,
      expiredKeys: 0,
      seconds: expect.any(Number),
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(await admin.get(POINTER_KEY)).toBe(served.version);
    expect(await keyCount()).toBe(keysBefore);
    expect(await versionKeys(served.version)).toEqual({
      total: trained.users + 2,
      persistent: trained.users + 2,
    });
  });

  it('does not swap over a set another load swapped in while it was writing', async () => {
    const loader = await connect();
    const other = await connect();
    upload(trained, 'etag-trained');
    const { version: trainedVersion } = await loadCache(
      { ...REQUEST, version: 'trained-1' },
      { client: other, s3, settings: SETTINGS },
    );
    await admin.del(POINTER_KEY);
    // The trained set's swap lands once the bootstrap load has started writing.
    upload(bootstrap, 'etag-boot', {
      body: () =>
        Readable.from(
          (async function* () {
            let sent = 0;
            for (const chunk of recommendationChunks({ ...bootstrap, linesPerChunk: 100 })) {
              if (sent++ === 3) await admin.set(POINTER_KEY, trainedVersion);
              yield Buffer.from(chunk);
            }
          })(),
        ),
    });
    const summary = await loadCache(
      { ...REQUEST, onlyIfEmpty: true },
      { client: loader, s3, settings: SETTINGS },
    );
    expect(summary).toMatchObject({
      skipped: 'cache already holds a recommendation set',
      version: trainedVersion,
      swapped: false,
      users: 0,
    });
    expect(summary.expiredKeys).toBe(bootstrap.users + 2);
    expect(await admin.get(POINTER_KEY)).toBe(trainedVersion);
    const bootstrapVersion = (await admin.keys('recs:v:*'))
      .map((key) => key.split(':')[2])
      .find((version) => version !== trainedVersion);
    expect(await versionKeys(bootstrapVersion as string)).toMatchObject({ persistent: 0 });
  });
});

describe('inputs and the handler', () => {
  const spec: SetSpec = { modelVersion: 'job-gz', users: 2000, itemPrefix: 'gz-' };

  it('reads a gzip-encoded object', async () => {
    upload(spec, 'etag-gz', { gzip: true });
    const summary = await loadCache(REQUEST, { client: await connect(), s3, settings: SETTINGS });
    expect(summary).toMatchObject({ users: spec.users, badLines: 0, swapped: true });
    expect((await listOf(summary.version, 1999))?.items[0].artistId).toMatch(/^gz-/);
  });

  it('writes under an explicit version when the event names one', async () => {
    upload(spec, 'etag-gz');
    const summary = await loadCache(
      { ...REQUEST, version: 'manual-1' },
      { client: await connect(), s3, settings: SETTINGS },
    );
    expect(summary.version).toBe('manual-1');
    expect(await admin.get(POINTER_KEY)).toBe('manual-1');
  });

  it('computes the slots the server computes', async () => {
    for (const key of [userKey('v', VARIANT, 'u1'), popularKey('job.1f'), 'recs:current', '{tag}x', 'é']) {
      expect(keySlot(key)).toBe(await admin.call('CLUSTER', 'KEYSLOT', key));
    }
  });

  it('reads both files out of the training job output.tar.gz, the archive pinned by its ETag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cache-loader-archive-'));
    try {
      writeFileSync(join(dir, 'recommendations.jsonl'), [...recommendationChunks(spec)].join(''));
      writeFileSync(join(dir, 'popularity.json'), popularityJson(spec));
      writeFileSync(join(dir, 'metrics.json'), '{}');
      const archive = join(dir, 'output.tar.gz');
      // The popularity list last: the loader has to look through the whole archive for it.
      const made = spawnSync('tar', [
        '-czf',
        archive,
        '-C',
        dir,
        'metrics.json',
        'recommendations.jsonl',
        'popularity.json',
      ]);
      expect(made.status).toBe(0);
      s3Mock.reset();
      s3Mock
        .on(GetObjectCommand)
        .callsFake(() => ({ Body: createReadStream(archive), ETag: '"archive-etag"' }));

      const config = readLoaderConfig({ CACHE_HOST: redis.host, CACHE_PORT: String(redis.port) });
      const handler = createHandler(config, { s3, cacheCa: redis.ca });
      // The event the training pipeline's LoadCache state sends.
      const summary = await handler({
        bucket: 'artifacts',
        archiveKey: 'models/job-gz/output/output.tar.gz',
        recommendationsMember: 'recommendations.jsonl',
        popularityMember: 'popularity.json',
        variant: VARIANT,
      });
      expect(summary).toMatchObject({ users: spec.users, badLines: 0, swapped: true });
      expect((await listOf(summary.version, 1234))?.items[0].artistId).toMatch(/^gz-/);
      expect(decodeList(await admin.get(popularKey(summary.version)))?.modelVersion).toBe(spec.modelVersion);
      const reads = s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input);
      expect(reads).toEqual([
        { Bucket: 'artifacts', Key: 'models/job-gz/output/output.tar.gz' },
        { Bucket: 'artifacts', Key: 'models/job-gz/output/output.tar.gz', IfMatch: '"archive-etag"' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a load end to end from the Lambda event', async () => {
    upload(spec, 'etag-handler');
    const config = readLoaderConfig({ CACHE_HOST: redis.host, CACHE_PORT: String(redis.port) });
    const handler = createHandler(config, { s3, cacheCa: redis.ca });
    const summary = await handler({ ...REQUEST });
    expect(summary).toMatchObject({ users: spec.users, badLines: 0, swapped: true, previousVersion: null });
    expect(summary.seconds).toBeGreaterThan(0);
    expect(await admin.get(POINTER_KEY)).toBe(summary.version);
    await expect(handler({ ...REQUEST, variant: 'a:b' })).rejects.toThrow('variant');
  });
});

describe('users with nothing to serve', () => {
  const spec: SetSpec = { modelVersion: 'job-thin', users: 1000, itemPrefix: 'thin-' };
  const sageMaker = apiCheckedMockClient(SageMakerRuntimeClient);
  afterAll(() => sageMaker.restore());

  interface Answer {
    source: string;
    modelVersion: string;
    items: { artistId: string; score: number }[];
  }

  /** The serving function over this cache, every user on the loaded variant. */
  function serving(overrides: Record<string, string | undefined> = {}) {
    const handler = createServingHandler(
      servingConfig(redis, {
        AB_VARIANTS: JSON.stringify([{ name: VARIANT, weight: 1 }]),
        SCORE_THRESHOLD: String(SETTINGS.scoreThreshold),
        MODEL_ENDPOINT_NAME: undefined,
        ...overrides,
      }),
      { cacheCa: redis.ca },
    );
    return {
      get: async (userId: string) => {
        const result = await handler(recommendationsEvent(userId, { limit: ['5'] }), lambdaContext);
        expect(result.statusCode).toBe(200);
        return bodyOf<Answer>(result);
      },
      close: () => handler.close(),
    };
  }

  it('are not written, so the serving function answers them like unknown users', async () => {
    const line = (index: number, scores: number[]) =>
      JSON.stringify({
        user_id: userIdOf(index),
        items: scores.map((score, rank) => ({ artistId: `thin-${index}-${rank}`, score })),
        model_version: spec.modelVersion,
      });
    expect(SETTINGS.scoreThreshold).toBe(0);
    // Line n holds user n - 1.
    upload(
      {
        ...spec,
        replaceLines: new Map([
          [8, line(7, [])],
          [9, line(8, [-0.1, -0.5])],
          [10, line(9, [0, -0.2])],
        ]),
      },
      'etag-thin',
    );
    const summary = await loadCache(REQUEST, { client: await connect(), s3, settings: SETTINGS });
    expect(summary).toMatchObject({
      users: spec.users - 2,
      usersWithoutItems: 2,
      badLines: 0,
      swapped: true,
    });
    expect(await admin.exists(userKey(summary.version, VARIANT, userIdOf(7)))).toBe(0);
    expect(await admin.exists(userKey(summary.version, VARIANT, userIdOf(8)))).toBe(0);

    const popular = Array.from({ length: 5 }, (_, rank) => ({
      artistId: `thin-${rank}`,
      score: 1 - rank / 50,
    }));
    const noModel = serving();
    try {
      const unknown = await noModel.get('never-seen');
      expect(unknown).toMatchObject({ source: 'fallback', modelVersion: spec.modelVersion, items: popular });
      for (const index of [7, 8]) {
        const { source, modelVersion, items } = await noModel.get(userIdOf(index));
        expect({ source, modelVersion, items }).toEqual({
          source: 'fallback',
          modelVersion: spec.modelVersion,
          items: popular,
        });
      }
      // An item exactly at the threshold is served.
      expect(await noModel.get(userIdOf(9))).toMatchObject({
        source: 'cache',
        items: [{ artistId: 'thin-9-0', score: 0 }],
      });
    } finally {
      noModel.close();
    }

    sageMaker.reset();
    sageMaker.on(InvokeEndpointCommand).resolves({
      Body: new TextEncoder().encode(
        JSON.stringify({ model_version: 'live', items: [{ artistId: 'live-1', score: 0.8 }] }),
      ) as never,
    });
    const withModel = serving({ MODEL_ENDPOINT_NAME: 'recommender' });
    try {
      for (const index of [7, 8]) {
        expect(await withModel.get(userIdOf(index))).toMatchObject({
          source: 'model',
          modelVersion: 'live',
          items: [{ artistId: 'live-1', score: 0.8 }],
        });
      }
      const asked = sageMaker
        .commandCalls(InvokeEndpointCommand)
        .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Body as Uint8Array)).user_id);
      expect(asked).toEqual([userIdOf(7), userIdOf(8)]);
    } finally {
      withModel.close();
    }
  });

  it('fail the load when no user has anything to serve', async () => {
    const empty = new Map(
      Array.from(
        { length: 20 },
        (_, i) =>
          [i + 1, JSON.stringify({ user_id: userIdOf(i), items: [], model_version: spec.modelVersion })] as [
            number,
            string,
          ],
      ),
    );
    upload({ ...spec, users: 20, replaceLines: empty }, 'etag-empty');
    await expect(loadCache(REQUEST, { client: await connect(), s3, settings: SETTINGS })).rejects.toThrow(
      'recommendations.jsonl holds no list to serve: 20 lines, 0 bad, 20 without an item scoring at least 0',
    );
    expect(await admin.get(POINTER_KEY)).toBeNull();
  });
});

describe('the connection deadline', () => {
  it('fails a load with a clear error within the connect timeout while the cache is coming back, and loads once it serves', async () => {
    // A server of its own, restarted and held in the state of a node coming back: it answers with
    // its slot map but reports cluster_state:fail.
    const cache = await startRedisCluster();
    try {
      const spec: SetSpec = { modelVersion: 'job-deadline', users: 100, itemPrefix: 'd-' };
      upload(spec, 'etag-deadline');
      const connectTimeoutMs = 500;
      const handler = createHandler(
        readLoaderConfig({
          CACHE_HOST: cache.host,
          CACHE_PORT: String(cache.port),
          CACHE_CONNECT_TIMEOUT_MS: String(connectTimeoutMs),
        }),
        { s3, cacheCa: cache.ca },
      );
      let attempt: Awaited<ReturnType<typeof settleWithin>> | undefined;
      await cache.restart({
        beforeServing: async () => {
          // Generous for a loaded machine; without a deadline the attempt never settles.
          attempt = await settleWithin(handler({ ...REQUEST }), connectTimeoutMs + 2000);
        },
      });
      expect(attempt).toMatchObject({ outcome: 'error', error: expect.any(CacheConnectError) });
      const error = (attempt as { error: Error }).error;
      expect(error.message).toBe(
        `no connection to the cache at ${cache.host}:${cache.port} within ${connectTimeoutMs} ms`,
      );
      expect(attempt?.ms).toBeGreaterThanOrEqual(connectTimeoutMs - 5);
      expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);

      upload(spec, 'etag-deadline');
      await expect(handler({ ...REQUEST })).resolves.toMatchObject({ users: spec.users, swapped: true });
    } finally {
      await cache.stop();
    }
  });
});
