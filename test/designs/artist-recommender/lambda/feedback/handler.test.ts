/**
 * `POST /v1/feedback` with Firehose mocked at the client boundary: the platform's ingestion
 * handling with the feedback item contract, the stored `feedback` line, the variant metrics.
 */
import '../../../../support/powertools-env';
import { createHash } from 'node:crypto';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';
import { createHandler, readIngestConfig } from '../../../../../lambda/artist-recommender/feedback/handler';
import { assignVariant } from '../../../../../lambda/platform/realtime/variant';
import { validateEvent } from '../../../../../lambda/platform/events/contract';
import { STORED_EVENT_CONTRACT } from '../../../../../lib/designs/artist-recommender/contracts/events';
import { FEEDBACK_REQUEST_MODEL } from '../../../../../lib/designs/artist-recommender/contracts/feedback-api';

const NOW = Date.parse('2026-12-02T10:00:10.000Z');
const VARIANTS = [
  { name: 'champion', weight: 9 },
  { name: 'challenger', weight: 1 },
];
const firehose = apiCheckedMockClient(FirehoseClient);

function handlerWith(env: Record<string, string> = {}) {
  return createHandler(
    readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events', FIREHOSE_BASE_DELAY_MS: '0', ...env }),
    { firehose: new FirehoseClient({ region: 'us-east-1' }), now: () => NOW, sleep: async () => undefined },
    VARIANTS,
  );
}

const post = (handler: ReturnType<typeof handlerWith>, body: unknown) =>
  handler(
    { body: typeof body === 'string' ? body : JSON.stringify(body), requestContext: { requestId: 'api-1' } },
    { awsRequestId: 'lambda-1' },
  );

/** The lines Firehose received, in order. */
function sentLines(): string[] {
  return firehose
    .commandCalls(PutRecordBatchCommand)
    .flatMap((call) => (call.args[0].input.Records ?? []).map((r) => Buffer.from(r.Data!).toString('utf8')));
}

const item = (n: number, extra: Record<string, unknown> = {}) => ({
  requestId: `r-${n}`,
  userId: `u-${n}`,
  artistId: `a-${n}`,
  clicked: n % 2 === 0,
  ...extra,
});

let stdout: StdoutCapture;
beforeEach(() => {
  firehose.reset();
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
    FailedPutCount: 0,
    RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `rec-${i}` })),
  }));
  stdout = captureStdout();
});
afterEach(() => stdout.restore());
afterAll(() => firehose.restore());

describe('POST /v1/feedback', () => {
  it('stores each item as a feedback line the stored-event contract accepts, with its deterministic id', async () => {
    const response = await post(handlerWith(), {
      feedback: [
        item(1, { variant: 'challenger', ts: '2026-12-02T11:00:05+01:00' }),
        item(2),
        item(3, { variant: null, ts: null }),
      ],
    });
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({
      requestId: 'api-1',
      acceptedCount: 3,
      rejectedCount: 0,
      accepted: [
        { index: 0, requestId: 'r-1' },
        { index: 1, requestId: 'r-2' },
        { index: 2, requestId: 'r-3' },
      ],
      rejected: [],
    });
    const lines = sentLines();
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    const stored = lines.map((line) => JSON.parse(line));
    const id = (r: string, a: string, c: boolean) =>
      `fb-${createHash('sha256').update(`${r}\n${a}\n${c}`).digest('hex')}`;
    expect(stored).toEqual([
      {
        event_type: 'feedback',
        event_id: id('r-1', 'a-1', false),
        request_id: 'r-1',
        user_id: 'u-1',
        artist_id: 'a-1',
        clicked: false,
        variant: 'challenger',
        ts: '2026-12-02T10:00:05.000Z',
      },
      {
        event_type: 'feedback',
        event_id: id('r-2', 'a-2', true),
        request_id: 'r-2',
        user_id: 'u-2',
        artist_id: 'a-2',
        clicked: true,
        variant: null,
        // No ts: the time the request was received.
        ts: new Date(NOW).toISOString(),
      },
      expect.objectContaining({ request_id: 'r-3', variant: null, ts: new Date(NOW).toISOString() }),
    ]);
    for (const line of stored) {
      expect(validateEvent(STORED_EVENT_CONTRACT, line, { now: NOW })).toEqual({ ok: true, event: line });
    }
  });

  it('gives a resent item the same event_id, and items that differ in clicked different ones', async () => {
    const handler = handlerWith();
    await post(handler, { feedback: [item(1)] });
    await post(handler, { feedback: [item(1, { ts: '2026-12-02T10:00:00Z' }), item(1, { clicked: true })] });
    const ids = sentLines().map((line) => JSON.parse(line).event_id);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('refuses a bad item alone, naming its field and reason, and delivers the rest', async () => {
    const response = await post(handlerWith(), {
      feedback: [
        item(1),
        item(2, { clicked: 'yes' }),
        item(3, { artistId: '' }),
        { ...item(4), userId: undefined },
        item(5, { ts: '2020-01-01T00:00:00Z' }),
        item(6, { ts: 'yesterday' }),
        item(7, { variant: 7 }),
        'not an item',
      ],
    });
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body);
    expect(body.accepted).toEqual([{ index: 0, requestId: 'r-1' }]);
    expect(
      body.rejected.map(({ index, reason, field }: Record<string, unknown>) => [index, reason, field]),
    ).toEqual([
      [1, 'wrong_type', 'clicked'],
      [2, 'invalid_id', 'artistId'],
      [3, 'missing_field', 'userId'],
      [4, 'ancient_timestamp', 'ts'],
      [5, 'invalid_timestamp', 'ts'],
      [6, 'wrong_type', 'variant'],
      [7, 'not_an_object', undefined],
    ]);
    expect(body.rejected[0]).toMatchObject({ requestId: 'r-2', message: 'clicked must be true or false' });
    expect(sentLines()).toHaveLength(1);
  });

  it('answers 400 naming the field for a bad body, and sends nothing', async () => {
    const handler = handlerWith();
    const cases: [unknown, string, string][] = [
      ['', 'body', 'the request body is empty; expected {"feedback": [...]}'],
      ['{', 'body', 'the body is not valid JSON'],
      [{ events: [item(1)] }, 'feedback', 'feedback is required'],
      [{ feedback: [] }, 'feedback', 'feedback must not be empty'],
      [{ feedback: {} }, 'feedback', 'feedback must be an array'],
      [
        { feedback: Array.from({ length: 501 }, (_, i) => item(i)) },
        'feedback',
        'feedback holds 501 items; the maximum per request is 500',
      ],
      ['{"feedback":[],"feedback":[{}]}', 'feedback', 'the body names feedback more than once'],
      [[item(1)], 'body', 'the body must be a JSON object {"feedback": [...]}'],
    ];
    for (const [body, field, message] of cases) {
      const response = await post(handler, body);
      expect({ status: response.statusCode, body: JSON.parse(response.body) }).toEqual({
        status: 400,
        body: { error: 'BadRequest', message, field },
      });
    }
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('refuses an item that names a field twice, which JSON.parse would silently merge', async () => {
    const response = await post(
      handlerWith(),
      '{"feedback":[{"requestId":"r-1","userId":"u-1","artistId":"a-1","clicked":true,"clicked":false}]}',
    );
    expect(JSON.parse(response.body).rejected).toEqual([
      expect.objectContaining({ index: 0, reason: 'repeated_field', field: 'clicked' }),
    ]);
  });

  it('retries what Firehose did not acknowledge, and answers 503 naming what is still undelivered', async () => {
    firehose.reset();
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [
          { RecordId: 'x' },
          { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow' },
        ],
      })
      .rejects(Object.assign(new Error('throttled'), { name: 'ServiceUnavailableException' }));
    const response = await post(handlerWith({ FIREHOSE_MAX_ATTEMPTS: '2' }), {
      feedback: [item(1), item(2)],
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'retry-after': '5' });
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'Unavailable',
      message: '1 items were not delivered; resend the undelivered ones later',
      delivered: [{ index: 0, requestId: 'r-1' }],
      undelivered: [{ index: 1, requestId: 'r-2' }],
    });
  });

  it("counts delivered items and clicks per variant: the echoed one the service runs, else the user's own", async () => {
    const handler = handlerWith();
    const users = ['u-1', 'u-2', 'u-3', 'u-4', 'u-5', 'u-6'];
    const response = await post(handler, {
      feedback: [
        ...users.map((userId, n) => item(n, { userId, clicked: true })),
        item(10, { variant: 'challenger', clicked: true }),
        item(11, { variant: 'challenger', clicked: false }),
        // A variant the service does not run is stored as sent but counted under the user's own.
        item(12, { userId: 'u-1', variant: 'made-up', clicked: false }),
        item(13, { clicked: 'no' }),
      ],
    });
    expect(JSON.parse(response.body).acceptedCount).toBe(9);
    expect(JSON.parse(sentLines()[8]).variant).toBe('made-up');

    const expected = new Map<string, { FeedbackItems: number; Clicks: number }>();
    const add = (variant: string, clicked: boolean) => {
      const count = expected.get(variant) ?? { FeedbackItems: 0, Clicks: 0 };
      count.FeedbackItems++;
      if (clicked) count.Clicks++;
      expected.set(variant, count);
    };
    users.forEach((userId) => add(assignVariant(userId, VARIANTS), true));
    add('challenger', true);
    add('challenger', false);
    add(assignVariant('u-1', VARIANTS), false);

    const emitted = new Map<string, Record<string, number>>();
    for (const line of stdout.lines) {
      const parsed = JSON.parse(line) as Record<string, unknown> & {
        _aws?: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      };
      const group = parsed._aws?.CloudWatchMetrics[0];
      if (!group?.Dimensions[0].includes('Variant')) continue;
      const variant = parsed.Variant as string;
      for (const { Name } of group.Metrics) {
        emitted.set(variant, { ...emitted.get(variant), [Name]: parsed[Name] as number });
      }
    }
    expect(Object.fromEntries(emitted)).toEqual(Object.fromEntries(expected));
  });

  it('has the request model of its batch: the feedback array, 1 to 500 items', () => {
    expect(FEEDBACK_REQUEST_MODEL).toMatchObject({
      type: 'object',
      required: ['feedback'],
      properties: { feedback: { type: 'array', minItems: 1, maxItems: 500 } },
    });
  });
});
