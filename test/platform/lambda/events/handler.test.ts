import '../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { captureStdout, type StdoutCapture } from '../../../support/powertools-env';
import { deliverRecords } from '../../../../lambda/platform/events/delivery';
import {
  ANSWER_MARGIN_MS,
  createEventsHandler,
  readIngestConfig,
} from '../../../../lambda/platform/events/handler';
import { MAX_EVENTS_PER_REQUEST } from '../../../../lambda/platform/events/limits';
import { seededRandom } from '../../../../scripts/support/seeded-random';
import { NOW, READINGS, reading } from './fixtures';

const firehose = apiCheckedMockClient(FirehoseClient);
const client = new FirehoseClient({ region: 'us-east-1' });
const context = { awsRequestId: 'test-request' };

function handlerWith(env: Record<string, string> = {}, random: () => number = () => 0.5) {
  return createEventsHandler(READINGS, readIngestConfig({ EVENTS_DELIVERY_STREAM: 'stream', ...env }), {
    firehose: client,
    now: () => NOW,
    sleep: async () => undefined,
    random,
  });
}

const post = (body: unknown) => ({ body: typeof body === 'string' ? body : JSON.stringify(body) });

function acceptAll(input: PutRecordBatchCommandInput) {
  return {
    FailedPutCount: 0,
    RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
  };
}

/** The event ids of a PutRecordBatch call's records. */
const idsOf = (input: PutRecordBatchCommandInput) =>
  (input.Records ?? []).map((r) => JSON.parse(Buffer.from(r.Data!).toString()).reading_id as string);

let stdout: StdoutCapture;
beforeEach(() => {
  firehose.reset();
  stdout = captureStdout();
});
afterEach(() => stdout.restore());

describe('batch limits', () => {
  it(`sends ${MAX_EVENTS_PER_REQUEST} events, PutRecordBatch's limit, in one call`, async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const events = Array.from({ length: MAX_EVENTS_PER_REQUEST }, (_, i) => reading(i));
    const response = await handlerWith()(post({ events }), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body).acceptedCount).toBe(MAX_EVENTS_PER_REQUEST);
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls.map((call) => call.args[0].input.Records!.length)).toEqual([MAX_EVENTS_PER_REQUEST]);
  });

  it('refuses one event more, and a configured lower limit, before sending anything', async () => {
    const over = Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, (_, i) => reading(i));
    const response = await handlerWith()(post({ events: over }), context);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'BadRequest',
      message: `events holds ${MAX_EVENTS_PER_REQUEST + 1} items; the maximum per request is ${MAX_EVENTS_PER_REQUEST}`,
      field: 'events',
    });
    const small = handlerWith({ MAX_EVENTS_PER_REQUEST: '3' });
    expect((await small(post({ events: [0, 1, 2, 3].map((n) => reading(n)) }), context)).statusCode).toBe(
      400,
    );
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('takes a body of exactly MAX_BODY_BYTES bytes and answers 413 to one byte more, counted after base64 decoding', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const handler = handlerWith({ MAX_BODY_BYTES: '2048' });
    const json = JSON.stringify({ events: [reading(0)] });
    const exact = json.slice(0, -1) + ' '.repeat(2048 - Buffer.byteLength(json)) + '}';
    expect(Buffer.byteLength(exact)).toBe(2048);
    expect((await handler(post(exact), context)).statusCode).toBe(202);
    const over = await handler(
      { body: Buffer.from(exact + ' ').toString('base64'), isBase64Encoded: true },
      context,
    );
    expect(over.statusCode).toBe(413);
    expect(JSON.parse(over.body)).toMatchObject({ error: 'PayloadTooLarge', field: 'body' });
  });

  it.each([
    [{}, 'events', 'events is required'],
    [{ events: 'x' }, 'events', 'events must be an array'],
    [{ events: [] }, 'events', 'events must not be empty'],
    [[], 'body', 'the body must be a JSON object {"events": [...]}'],
    ['"events"', 'body', 'the body must be a JSON object {"events": [...]}'],
  ])('answers %j with 400 naming %s', async (body, field, message) => {
    const response = await handlerWith()(
      post(typeof body === 'string' ? body : JSON.stringify(body)),
      context,
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'BadRequest', message, field });
  });

  it('refuses a configuration above the Firehose limits at cold start', () => {
    expect(() =>
      readIngestConfig({
        EVENTS_DELIVERY_STREAM: 's',
        MAX_EVENTS_PER_REQUEST: '501',
        MAX_BODY_BYTES: '4194305',
      }),
    ).toThrow(
      /MAX_EVENTS_PER_REQUEST must be an integer in \[1, 500\].*MAX_BODY_BYTES must be an integer in \[1024, 4194304\]/,
    );
  });
});

describe('delivery failures', () => {
  it('never loses an event: over 40 random failure patterns each valid event is delivered or named undelivered, once', async () => {
    const random = seededRandom(2026);
    for (let round = 0; round < 40; round++) {
      firehose.reset();
      const acknowledged = new Set<string>();
      firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
        if (random() < 0.2)
          throw Object.assign(new Error('slow down'), { name: 'ServiceUnavailableException' });
        const ids = idsOf(input);
        return {
          FailedPutCount: 0,
          RequestResponses: ids.map((id, i) => {
            if (random() < 0.3) return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'busy' };
            acknowledged.add(id);
            return { RecordId: `r-${round}-${i}` };
          }),
        };
      });
      const events = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) =>
        random() < 0.2 ? reading(i, { unit: 'furlong' }) : reading(i),
      );
      const response = await handlerWith({}, random)(post({ events }), context);
      const body = JSON.parse(response.body);
      const delivered: { index: number; reading_id: string }[] = body.accepted ?? body.delivered;
      const undelivered: { index: number; reading_id: string }[] = body.undelivered ?? [];
      const rejected: { index: number }[] = body.rejected;

      expect([...delivered, ...undelivered, ...rejected].map((e) => e.index).sort((a, b) => a - b)).toEqual(
        events.map((_, i) => i),
      );
      expect(delivered.every((e) => acknowledged.has(e.reading_id))).toBe(true);
      expect(undelivered.some((e) => acknowledged.has(e.reading_id))).toBe(false);
      expect(rejected.every((e) => (events[e.index] as { unit: string }).unit === 'furlong')).toBe(true);
      const sent = firehose.commandCalls(PutRecordBatchCommand).flatMap((call) => idsOf(call.args[0].input));
      expect(sent.some((id) => rejected.some((e) => `r-${e.index}` === id))).toBe(false);
      if (undelivered.length > 0) {
        expect(response.statusCode).toBe(503);
        expect(response.headers).toMatchObject({ 'retry-after': '5' });
        expect(body).toMatchObject({ error: 'Unavailable', requestId: 'test-request' });
      } else {
        expect(response.statusCode).toBe(202);
      }
    }
  });

  it('stops at a permanent error and names every event undelivered', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    const response = await handlerWith()(post({ events: [reading(0), reading(1)] }), context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).undelivered).toEqual([
      { index: 0, reading_id: 'r-0' },
      { index: 1, reading_id: 'r-1' },
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
  });
});

describe('deadlines', () => {
  const never = () => new Promise(() => undefined);

  it('gives up on each PutRecordBatch call at its own deadline', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(never);
    const started = Date.now();
    const response = await handlerWith({ FIREHOSE_CALL_TIMEOUT_MS: '100' })(
      post({ events: [reading(0)] }),
      context,
    );
    expect(response.statusCode).toBe(503);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(4);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("answers before the function's own timeout: no attempt starts that could not end in time", async () => {
    firehose.on(PutRecordBatchCommand).callsFake(never);
    const handler = handlerWith({ FIREHOSE_CALL_TIMEOUT_MS: '300', FIREHOSE_MAX_ATTEMPTS: '10' }, () => 0);
    const remaining = ANSWER_MARGIN_MS + 800;
    const started = Date.now();
    const response = await handler(post({ events: [reading(0), reading(1)] }), {
      ...context,
      getRemainingTimeInMillis: () => remaining,
    });
    const elapsed = Date.now() - started;
    expect(response.statusCode).toBe(503);
    // Calls at 0-300 ms and 300-600 ms fit before 800 ms; a third, from 600 ms, could not end by then.
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
    expect(elapsed).toBeLessThan(remaining);
    expect(JSON.parse(response.body).undelivered).toHaveLength(2);
  });

  it('does not even start a call when the time left cannot hold one', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const response = await handlerWith({ FIREHOSE_CALL_TIMEOUT_MS: '300' })(post({ events: [reading(0)] }), {
      ...context,
      getRemainingTimeInMillis: () => ANSWER_MARGIN_MS + 200,
    });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).undelivered).toEqual([{ index: 0, reading_id: 'r-0' }]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('reports that the retries were cut short by the deadline', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(Object.assign(new Error('busy'), { name: 'ServiceUnavailableException' }));
    let clock = 0;
    const result = await deliverRecords(client, [Buffer.from('a'), Buffer.from('b')], {
      streamName: 'stream',
      maxAttempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 100,
      callTimeoutMs: 100,
      deadlineAt: 450,
      random: () => 1,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    // Attempts start at 0, 100, 200 and 300 (each retry waits 100 ms); a fifth would wait until 400
    // and could run until 500, after 450.
    expect(result).toMatchObject({ attempts: 4, outOfTime: true, delivered: [] });
    expect(result.undelivered.map((u) => u.position)).toEqual([0, 1]);
  });
});
