/**
 * The `recommendation` line the recommendation function writes for every list it serves, against a
 * real redis-server configured like ElastiCache Serverless, the SageMaker runtime mocked at the
 * client boundary: what the subscription filter matches and Firehose stores, parsed with the
 * design's event contract.
 */
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { Cluster } from 'iovalkey';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { createHandler } from '../../../../../lambda/artist-recommender/recommendations/handler';
import { servedListLine } from '../../../../../lambda/artist-recommender/recommendations/served-list';
import { validateEvent } from '../../../../../lambda/platform/events/contract';
import { STORED_EVENT_CONTRACT } from '../../../../../lib/designs/artist-recommender/contracts/events';
import {
  SERVED_LIST_COUNT_FIELD,
  SERVED_LIST_EVENT_TYPE,
  SERVED_LIST_VARIANT_FIELD,
} from '../../../../../lib/platform/constructs/data/served-list-line';
import { startRedisCluster, type LocalRedisCluster } from '../../../../support/redis-cluster';
import {
  bodyOf,
  connectAdmin,
  lambdaContext,
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
let redis: LocalRedisCluster;
let admin: Cluster;
let stdout: StdoutCapture;
const handlers: { close(): void }[] = [];

/** The served-list lines written since `from`, as JSON. */
function servedLines(from: number): Record<string, unknown>[] {
  return stdout.lines
    .slice(from)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event_type === SERVED_LIST_EVENT_TYPE);
}

function handlerWith(overrides: Record<string, string | undefined> = {}, recordServedLists?: boolean) {
  const handler = createHandler(servingConfig(redis, overrides), { cacheCa: redis.ca, recordServedLists });
  handlers.push(handler);
  return handler;
}

beforeAll(async () => {
  stdout = captureStdout();
  redis = await startRedisCluster();
  admin = await connectAdmin(redis);
  await seedVersion(admin, { version: 'v1', userIds: userIds(20) });
});

afterAll(async () => {
  for (const handler of handlers) handler.close();
  admin?.disconnect();
  stdout?.restore();
  sageMaker.restore();
  await redis?.stop();
});

beforeEach(() => sageMaker.reset());

describe('the served-list line', () => {
  it('is written once per 200 answer, a bare JSON line the contract accepts, matching the answer item by item', async () => {
    const handler = handlerWith({ SCORE_THRESHOLD: '0.5' });
    const before = stdout.lines.length;
    const answers: Answer[] = [];
    for (const userId of userIds(20)) {
      const result = await handler(recommendationsEvent(userId, { limit: ['7'] }), lambdaContext);
      expect(result.statusCode).toBe(200);
      answers.push(bodyOf<Answer>(result));
    }
    const lines = servedLines(before);
    expect(lines).toHaveLength(answers.length);
    lines.forEach((line, n) => {
      const answer = answers[n];
      const verdict = validateEvent(STORED_EVENT_CONTRACT, line, { now: Date.now() });
      if (!verdict.ok) throw new Error(`line ${n} refused: ${verdict.message}`);
      expect(verdict.event).toEqual({
        event_type: 'recommendation',
        event_id: answer.requestId,
        request_id: answer.requestId,
        user_id: answer.userId,
        variant: answer.variant,
        model_version: answer.modelVersion,
        source: 'cache',
        items: answer.items.map((item, i) => ({
          artist_id: item.artistId,
          position: i + 1,
          score: item.score,
        })),
        ts: line.ts,
      });
      // What the subscription and metric filters read: the type, a positive count, the variant.
      expect(line[SERVED_LIST_COUNT_FIELD]).toBe(answer.items.length);
      expect(line[SERVED_LIST_VARIANT_FIELD]).toBe(answer.variant);
      expect(Object.keys(line)).toEqual([
        'event_type',
        'event_id',
        'request_id',
        'user_id',
        'variant',
        'model_version',
        'source',
        'items',
        'ts',
        SERVED_LIST_COUNT_FIELD,
      ]);
      expect(Math.abs(Date.parse(line.ts as string) - Date.now())).toBeLessThan(60_000);
    });
  });

  it('is one line of its own on stdout, not wrapped by the logger', async () => {
    const handler = handlerWith();
    const before = stdout.lines.length;
    await handler(recommendationsEvent('user-3'), lambdaContext);
    const raw = stdout.lines.slice(before).filter((line) => line.includes('"event_type":"recommendation"'));
    expect(raw).toHaveLength(1);
    expect(raw[0].startsWith('{"event_type":"recommendation",')).toBe(true);
    expect(JSON.parse(raw[0])).not.toHaveProperty('level');
  });

  it('is written for a list the model served, and never for a list with no item', async () => {
    const handler = handlerWith({ MODEL_ENDPOINT_NAME: 'recommender', SCORE_THRESHOLD: '0.5' });
    const body = (items: { artistId: string; score: number }[]) =>
      new TextEncoder().encode(JSON.stringify({ model_version: 'm1', items })) as never;
    sageMaker.on(InvokeEndpointCommand).resolvesOnce({ Body: body([{ artistId: 'a-1', score: 0.9 }]) });
    const before = stdout.lines.length;
    const served = await handler(recommendationsEvent('never-seen-1'), lambdaContext);
    expect(bodyOf<Answer>(served).source).toBe('model');
    expect(servedLines(before)).toEqual([
      expect.objectContaining({ source: 'model', model_version: 'm1', [SERVED_LIST_COUNT_FIELD]: 1 }),
    ]);

    // A list with no item shows nothing: no line (the handler serves one only when no source has items).
    expect(
      servedListLine({
        requestId: 'r-1',
        userId: 'u-1',
        answer: { source: 'model', variant: 'champion', modelVersion: 'm1', items: [] },
        servedAt: Date.now(),
      }),
    ).toBeUndefined();
  });

  it('is not written for a refused request, nor when recording is switched off', async () => {
    let before = stdout.lines.length;
    const bad = await handlerWith()(recommendationsEvent('user-1', { limit: ['0'] }), lambdaContext);
    expect(bad.statusCode).toBe(400);
    expect(servedLines(before)).toEqual([]);

    before = stdout.lines.length;
    const off = await handlerWith({}, false)(recommendationsEvent('user-1'), lambdaContext);
    expect(off.statusCode).toBe(200);
    expect(servedLines(before)).toEqual([]);
  });

  it('numbers positions in list order and counts the items, for every length up to 100', () => {
    for (const length of [1, 2, 50, 100]) {
      const items = Array.from({ length }, (_, i) => ({ artistId: `a-${i}`, score: 1 - i / 100 }));
      const line = JSON.parse(
        servedListLine({
          requestId: 'r-1',
          userId: 'u-1',
          answer: { source: 'fallback', variant: 'champion', modelVersion: 'v1', items },
          servedAt: Date.parse('2026-12-02T10:00:00Z'),
        })!,
      );
      expect(line.items.map((i: { position: number }) => i.position)).toEqual(items.map((_, i) => i + 1));
      expect(line[SERVED_LIST_COUNT_FIELD]).toBe(length);
      expect(line.ts).toBe('2026-12-02T10:00:00.000Z');
      expect(validateEvent(STORED_EVENT_CONTRACT, line, { now: Date.parse('2026-12-02T10:00:00Z') }).ok).toBe(
        true,
      );
    }
  });
});
