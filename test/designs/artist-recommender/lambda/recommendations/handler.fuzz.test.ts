/**
 * Malformed requests, generated from a seeded PRNG (set FUZZ_SEED to reproduce or vary a run), sent to
 * the handler wired to a real TLS cluster-mode redis-server: every one must be answered with a 4xx
 * and a JSON error naming the field, never a 5xx or an unhandled rejection.
 */
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Cluster } from 'iovalkey';
import { runInThisContext } from 'node:vm';
import { createHandler } from '../../../../../lambda/artist-recommender/recommendations/handler';
import { startRedisCluster, type LocalRedisCluster } from '../../../../support/redis-cluster';
import { seededRandom } from '../../../../../scripts/support/seeded-random';
import {
  connectAdmin,
  lambdaContext,
  recommendationsEvent,
  seedVersion,
  servingConfig,
  userIds,
} from '../../support/serving-fixtures';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const CASES = 2000;

interface FuzzCase {
  readonly expectedField: 'method' | 'userId' | 'limit';
  readonly event: APIGatewayProxyEvent;
}

function generator(random: () => number) {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const int = (max: number) => Math.floor(random() * max);
  const randomString = (length: number, alphabet: string) =>
    Array.from({ length }, () => alphabet[int(alphabet.length)]).join('');
  const unicode = () =>
    String.fromCodePoint(pick([0x00e9, 0x4e2d, 0x0000, 0x202e, 0xfeff, 0x1f600, 0xff11, 0x0301, 0xd800]));
  const goodUserId = () => randomString(1 + int(64), 'abcXYZ0189_.-');

  const badMethod = (): unknown =>
    pick<unknown>([
      'POST',
      'PUT',
      'DELETE',
      'PATCH',
      'HEAD',
      'OPTIONS',
      'get',
      'Get',
      'GET ',
      ' GET',
      '',
      undefined,
      null,
      42,
      'X'.repeat(1 + int(20_000)),
      randomString(1 + int(10), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    ]);

  const badUserId = (): unknown =>
    pick<() => unknown>([
      () => '',
      () => goodUserId() + randomString(1 + int(64), 'a') + 'x'.repeat(65),
      () => 'u'.repeat(65 + int(100_000)),
      () =>
        goodUserId() + pick([' ', '/', ':', '*', '{', '}', '?', '#', '%2F', '\n', '\t', '"', "'", '\\', '@']),
      () => goodUserId().slice(0, 60) + unicode(),
      () => unicode() + goodUserId().slice(0, 60),
      () => randomString(1 + int(30), '\u00e9\u4e2d\u0000\u202e'),
      () => '../' + goodUserId().slice(0, 40),
      () => 'recs:current',
      () => int(1000),
      () => null,
      () => undefined,
      () => ({ toString: () => 'user-1' }),
      () => ['user-1'],
    ])();

  const badLimit = (): unknown =>
    pick<() => unknown>([
      () => ['0'],
      () => ['101'],
      () => ['-1'],
      () => ['1.5'],
      () => ['abc'],
      () => [''],
      () => [' 5'],
      () => ['5 '],
      () => ['1e1'],
      () => ['0x1'],
      () => ['+5'],
      () => ['\uff15'],
      () => [String(101 + int(1_000_000))],
      () => ['-' + String(int(1000))],
      () => [String(int(100)) + '.' + String(1 + int(9))],
      () => ['9'.repeat(4 + int(100_000))],
      () => [randomString(1 + int(20), 'abcdef!@#$%^&*()')],
      () => ['5', '6'],
      () => ['10', '10'],
      () => Array.from({ length: 2 + int(50) }, () => String(1 + int(100))),
      () => [],
      () => [null],
    ])();

  const query = (limit?: unknown): APIGatewayProxyEvent['multiValueQueryStringParameters'] => {
    const extra = random() < 0.3 ? { other: [randomString(int(10), 'abc')] } : {};
    return (limit === undefined ? pick([null, extra]) : { ...extra, limit }) as never;
  };

  return (): FuzzCase => {
    const kind = pick(['method', 'userId', 'missingPath', 'limit', 'limitNoQueryMap'] as const);
    const event = recommendationsEvent('placeholder');
    const mutable = event as unknown as Record<string, unknown>;
    switch (kind) {
      case 'method':
        mutable.httpMethod = badMethod();
        mutable.pathParameters = random() < 0.5 ? { userId: badUserId() } : null;
        mutable.multiValueQueryStringParameters = query(random() < 0.5 ? badLimit() : undefined);
        return { expectedField: 'method', event };
      case 'userId':
        mutable.pathParameters = { userId: badUserId() };
        mutable.multiValueQueryStringParameters = query(random() < 0.5 ? badLimit() : undefined);
        return { expectedField: 'userId', event };
      case 'missingPath':
        mutable.pathParameters = pick([null, undefined, {}, { id: goodUserId() }]);
        mutable.multiValueQueryStringParameters = pick([null, undefined, query(badLimit())]);
        return { expectedField: 'userId', event };
      case 'limit':
        mutable.pathParameters = { userId: goodUserId() };
        mutable.multiValueQueryStringParameters = query(badLimit());
        return { expectedField: 'limit', event };
      case 'limitNoQueryMap':
        // A bad limit in the single-value map only (the handler reads the multi-value one), with a bad
        // user id: the answer must name the user id.
        mutable.pathParameters = { userId: goodUserId() + '/' };
        mutable.queryStringParameters = { limit: String(badLimit()) };
        mutable.multiValueQueryStringParameters = null;
        return { expectedField: 'userId', event };
    }
  };
}

let redis: LocalRedisCluster;
let admin: Cluster;
let stdout: StdoutCapture;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
/**
 * The test file runs in its own VM context whose `process` is a stand-in that never sees rejections;
 * the listener goes on the real process. (Jest fails the running test on one as well.)
 */
const realProcess = runInThisContext('process') as NodeJS.Process;

beforeAll(async () => {
  realProcess.on('unhandledRejection', onRejection);
  stdout = captureStdout();
  redis = await startRedisCluster();
  admin = await connectAdmin(redis);
  await seedVersion(admin, { version: 'v1', userIds: userIds(10) });
});

afterAll(async () => {
  realProcess.removeListener('unhandledRejection', onRejection);
  admin?.disconnect();
  stdout?.restore();
  await redis?.stop();
});

it(`answers ${CASES} malformed requests (seed ${SEED}) with a 4xx naming the field`, async () => {
  const handler = createHandler(servingConfig(redis, { MODEL_ENDPOINT_NAME: 'recommender' }), {
    cacheCa: redis.ca,
  });
  const next = generator(seededRandom(SEED));
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  try {
    for (let i = 0; i < CASES; i++) {
      const { event, expectedField } = next();
      const result = await handler(event, lambdaContext);
      statuses.set(result.statusCode, (statuses.get(result.statusCode) ?? 0) + 1);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(result.body);
      } catch {
        // reported below
      }
      const ok =
        result.statusCode >= 400 &&
        result.statusCode < 500 &&
        result.headers?.['content-type'] === 'application/json' &&
        body.error === 'BadRequest' &&
        typeof body.message === 'string' &&
        (body.message as string).length < 200 &&
        body.field === expectedField &&
        (expectedField === 'method') === (result.statusCode === 405) &&
        // A 405 names what the resource allows.
        (result.statusCode !== 405 || result.headers?.Allow === 'GET');
      if (!ok && failures.length < 5) {
        failures.push(
          `case ${i} (seed ${SEED}): expected 4xx on ${expectedField}, got ${result.statusCode} ` +
            `${result.body.slice(0, 200)} for ${JSON.stringify(event).slice(0, 300)}`,
        );
      }
    }
    // Let any stray promise settle before counting rejections.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    handler.close();
  }
  expect(failures).toEqual([]);
  expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
  expect(statuses.get(405)).toBeGreaterThan(0);
  expect(statuses.get(400)).toBeGreaterThan(0);
  expect(rejections).toEqual([]);
  const metrics = stdout.metricNames();
  expect(metrics.filter((name) => name === 'BadRequest')).toHaveLength(CASES);
  expect(metrics).not.toContain('UnexpectedError');
});
