/**
 * The loader against three redis-servers sharing the slots: a version's keys land on every node, so
 * each pipelined batch must be split per node, and the sweep must SCAN every master.
 */
import '../../../../support/powertools-env';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import type { Cluster } from 'iovalkey';
import { readLoaderConfig } from '../../../../../lambda/artist-recommender/cache-loader/config';
import { loadCache, type LoadRequest } from '../../../../../lambda/artist-recommender/cache-loader/load';
import { CacheRecommendationStore } from '../../../../../lambda/artist-recommender/recommendations/recommendation-store';
import { createCacheClient } from '../../../../../lambda/platform/shared/cache-client';
import { POINTER_KEY } from '../../../../../lambda/artist-recommender/shared/cache-layout';
import {
  popularityObject,
  recommendationsObject,
  userIdOf,
  type SetSpec,
} from '../../support/cache-loader-fixtures';
import { startMultiNodeCluster, type LocalMultiNodeCluster } from '../../../../support/redis-multi-cluster';

const REQUEST = {
  bucket: 'pipeline-output',
  recommendationsKey: 'recommendations.jsonl',
  popularityKey: 'popularity.json',
  variant: 'champion',
} satisfies LoadRequest;
const SETTINGS = readLoaderConfig({ CACHE_HOST: 'unused', CACHE_PORT: '1' }).settings;

const s3Mock = apiCheckedMockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
let cluster: LocalMultiNodeCluster;
let client: Cluster;

function upload(spec: SetSpec, etag: string) {
  s3Mock.reset();
  s3Mock
    .on(GetObjectCommand, { Key: REQUEST.popularityKey })
    .callsFake(() => popularityObject(spec, `"p-${etag}"`));
  s3Mock
    .on(GetObjectCommand, { Key: REQUEST.recommendationsKey })
    .callsFake(() => recommendationsObject(spec, `"${etag}"`));
}

beforeAll(async () => {
  cluster = await startMultiNodeCluster(3);
  client = createCacheClient({
    host: cluster.host,
    port: cluster.port,
    ca: cluster.ca,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 15_000,
  });
  client.on('error', () => undefined);
  await client.connect();
}, 30_000);

afterAll(async () => {
  client?.disconnect();
  s3Mock.restore();
  await cluster?.stop();
});

it('spreads a load over every node and expires the replaced version on every node', async () => {
  expect(client.nodes('master')).toHaveLength(3);
  const users = 10_000;
  upload({ modelVersion: 'job-a', users, itemPrefix: 'a-' }, 'etag-a');
  const first = await loadCache(REQUEST, { client, s3, settings: SETTINGS });
  expect(first).toMatchObject({ users, swapped: true });

  const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
  // users + popularity + marker + pointer
  expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(users + 3);
  for (const size of sizes) expect(size).toBeGreaterThan(users / 5);

  const store = new CacheRecommendationStore(() => Promise.resolve(client), 0);
  for (const index of [0, 1, 4999, 9999]) {
    const version = await store.currentVersion();
    expect((await store.userList(version as string, REQUEST.variant, userIdOf(index)))?.modelVersion).toBe(
      'job-a',
    );
  }

  upload({ modelVersion: 'job-b', users, itemPrefix: 'b-' }, 'etag-b');
  const second = await loadCache(REQUEST, { client, s3, settings: SETTINGS });
  expect(second).toMatchObject({ previousVersion: first.version, swapped: true, expiredKeys: users + 2 });
  expect(await client.get(POINTER_KEY)).toBe(second.version);
});
