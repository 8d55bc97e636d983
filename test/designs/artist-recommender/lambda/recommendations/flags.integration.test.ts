/**
 * The recommendation handler with feature flags from AppConfig (mocked at the client boundary)
 * against a real redis-server: the flags steer the threshold, the A/B split, the kill switch and
 * model-on-miss, and an AppConfig outage never costs a request more than the flags' deadline.
 */
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Cluster } from 'iovalkey';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { flagEnvironment, mockAppConfig } from '../../../../support/appconfig-flags';
import { createHandler } from '../../../../../lambda/artist-recommender/recommendations/handler';
import { assignVariant } from '../../../../../lambda/platform/realtime/variant';
import {
  recommenderDefaults,
  type RecommenderFlagValues,
} from '../../../../../lib/designs/artist-recommender/contracts/feature-flags';
import { startRedisCluster, type LocalRedisCluster } from '../../../../support/redis-cluster';
import {
  TWO_VARIANTS,
  bodyOf,
  connectAdmin,
  lambdaContext,
  recommendationsEvent,
  seedVersion,
  servingConfig,
  userIds,
} from '../../support/serving-fixtures';

interface Answer {
  source: string;
  variant: string;
  items: { artistId: string; score: number }[];
}

const DEFAULTS = recommenderDefaults({ variants: TWO_VARIANTS, scoreThreshold: 0.2 });
const MAX_AGE_S = 15;
const TIMEOUT_MS = 60;

const appConfig = mockAppConfig();
const sageMaker = apiCheckedMockClient(SageMakerRuntimeClient);
let redis: LocalRedisCluster;
let admin: Cluster;
let stdout: StdoutCapture;
const handlers: { close(): void }[] = [];

function handlerWithFlags() {
  const handler = createHandler(
    servingConfig(redis, {
      MODEL_ENDPOINT_NAME: 'recommender',
      ...flagEnvironment(DEFAULTS, { maxAgeSeconds: MAX_AGE_S, timeoutMs: TIMEOUT_MS }),
    }),
    { cacheCa: redis.ca },
  );
  handlers.push(handler);
  return handler;
}

async function get(handler: ReturnType<typeof handlerWithFlags>, userId: string, limit = 100) {
  const started = performance.now();
  const result = await handler(recommendationsEvent(userId, { limit: [String(limit)] }), lambdaContext);
  return { result, body: bodyOf<Answer>(result), ms: performance.now() - started };
}

function flags(overrides: Partial<RecommenderFlagValues>): RecommenderFlagValues {
  return { ...DEFAULTS, ...overrides };
}

beforeAll(async () => {
  stdout = captureStdout();
  redis = await startRedisCluster();
  admin = await connectAdmin(redis);
  // Scores 0.95 down by 0.05: 16 items at or above the default threshold 0.2.
  await seedVersion(admin, { version: 'v1', userIds: userIds(60), itemsPerUser: 20 });
});

beforeEach(() => {
  appConfig.reset();
  sageMaker.reset();
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  for (const handler of handlers) handler.close();
  admin?.disconnect();
  stdout?.restore();
  appConfig.client.restore();
  sageMaker.restore();
  await redis?.stop();
});

describe('recommendations under an AppConfig outage', () => {
  test.each([
    ['fails', () => appConfig.fails(), 'FlagsUnavailable'],
    ['hangs past the deadline', () => appConfig.hangs(), 'FlagsUnavailable'],
    [
      'returns a document the schema refuses',
      () => appConfig.serves(flags({ scoreThreshold: { enabled: true, value: 7 } })),
      'FlagsInvalid',
    ],
    ['returns a document that is not JSON', () => appConfig.serves('{"scoreThreshold":'), 'FlagsInvalid'],
  ])(
    'AppConfig %s: 200 with the deployed defaults, counted, within the deadline',
    async (_, outage, metric) => {
      // GIVEN AppConfig in trouble and a cold container
      outage();
      const handler = handlerWithFlags();
      const before = stdout.metricNames().length;
      // WHEN the cold start's first request comes
      const { result, body, ms } = await get(handler, 'user-7');
      // THEN it is served with the defaults: the deployed split and threshold
      expect(result.statusCode).toBe(200);
      expect(body.source).toBe('cache');
      expect(body.variant).toBe(assignVariant('user-7', TWO_VARIANTS));
      expect(body.items).toHaveLength(16);
      // AND the problem is counted once, and the request was not stalled by a call that never
      // answers (this first request also opens the cache connection; the reader's test pins the deadline)
      expect(stdout.metricNames().slice(before)).toEqual([metric]);
      expect(ms).toBeLessThan(TIMEOUT_MS + 2000);
      // AND the next request does not try again before the cache age
      const again = await get(handler, 'user-8');
      expect(again.result.statusCode).toBe(200);
      expect(stdout.metricNames().slice(before)).toEqual([metric]);
    },
  );
});

describe('recommendations steered by flags', () => {
  test('the kill switch sends every user to the champion, whatever the weights', async () => {
    appConfig.serves(
      flags({
        challengerTraffic: { enabled: false },
        abWeights: { enabled: true, champion: 0, challenger: 1 },
      }),
    );
    const handler = handlerWithFlags();
    const variants = new Set<string>();
    for (const userId of userIds(60)) variants.add((await get(handler, userId, 1)).body.variant);
    expect(variants).toEqual(new Set(['champion']));
  });

  test('the weights flag moves users between variants', async () => {
    appConfig.serves(flags({ abWeights: { enabled: true, champion: 0, challenger: 1 } }));
    const handler = handlerWithFlags();
    const variants = new Set<string>();
    for (const userId of userIds(20)) variants.add((await get(handler, userId, 1)).body.variant);
    expect(variants).toEqual(new Set(['challenger']));
  });

  test('a threshold change takes effect after the cache age, not before', async () => {
    // GIVEN a container that read the default threshold
    appConfig.serves(DEFAULTS);
    const clock = jest.spyOn(Date, 'now');
    let now = Date.now();
    clock.mockImplementation(() => now);
    const handler = handlerWithFlags();
    expect((await get(handler, 'user-3')).body.items).toHaveLength(16);
    // WHEN the threshold is raised to 0.8 in AppConfig
    appConfig.serves(flags({ scoreThreshold: { enabled: true, value: 0.8 } }));
    now += (MAX_AGE_S - 1) * 1000;
    // THEN the old threshold serves until the cache age has passed
    expect((await get(handler, 'user-3')).body.items).toHaveLength(16);
    now += 1000;
    const { body } = await get(handler, 'user-3');
    // 0.95 .. 0.80: four items
    expect(body.items).toHaveLength(4);
    expect(Math.min(...body.items.map((i) => i.score))).toBeGreaterThanOrEqual(0.8);
  });

  test('model-on-miss off answers a miss from the popularity list without calling the endpoint', async () => {
    appConfig.serves(flags({ modelOnMiss: { enabled: false } }));
    sageMaker.on(InvokeEndpointCommand).rejects(new Error('must not be called'));
    const handler = handlerWithFlags();
    const { result, body } = await get(handler, 'someone-new', 5);
    expect(result.statusCode).toBe(200);
    expect(body.source).toBe('fallback');
    expect(sageMaker.calls()).toHaveLength(0);
  });
});
