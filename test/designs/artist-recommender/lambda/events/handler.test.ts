import '../../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { createHandler, readIngestConfig } from '../../../../../lambda/artist-recommender/events/handler';
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';
import { NOW, validEvent } from './fixtures';

const firehose = apiCheckedMockClient(FirehoseClient);
const config = readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events-stream' });
const delays: number[] = [];
const handler = createHandler(config, {
  firehose: new FirehoseClient({ region: 'us-east-1' }),
  now: () => NOW,
  sleep: async (ms) => {
    delays.push(ms);
  },
  random: () => 0.5,
});
const context = { awsRequestId: 'test-request' };

function post(body: unknown): APIGatewayProxyEvent {
  return { body: typeof body === 'string' ? body : JSON.stringify(body) } as APIGatewayProxyEvent;
}

function acceptAll(input: PutRecordBatchCommandInput) {
  return {
    FailedPutCount: 0,
    RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
  };
}

function throttled() {
  return Object.assign(new Error('Rate exceeded'), { name: 'ServiceUnavailableException' });
}

let stdout: StdoutCapture;
beforeEach(() => {
  firehose.reset();
  delays.length = 0;
  stdout = captureStdout();
});
afterEach(() => stdout.restore());

describe('POST /v1/events', () => {
  it('sends valid events as JSON lines and reports rejected ones', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const response = await handler(
      post({ events: [validEvent(0), validEvent(1, { event_type: 'buy' }), validEvent(2), 'nope'] }),
      context,
    );
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({
      acceptedCount: 2,
      rejectedCount: 2,
      accepted: [
        { index: 0, event_id: 'evt-0' },
        { index: 2, event_id: 'evt-2' },
      ],
      rejected: [
        { index: 1, event_id: 'evt-1', reason: 'unknown_event_type', field: 'event_type' },
        { index: 3, reason: 'not_an_object' },
      ],
    });
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.DeliveryStreamName).toBe('events-stream');
    const lines = calls[0].args[0].input.Records!.map((r) => Buffer.from(r.Data!).toString('utf8'));
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({ event_id: 'evt-0', song_ids: [] });
  });

  it('retries only the records that failed, with growing jittered backoff', async () => {
    const events = Array.from({ length: 10 }, (_, i) => validEvent(i));
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 3,
        RequestResponses: events.map((_, i) =>
          i % 4 === 1
            ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }
            : { RecordId: `a${i}` },
        ),
      })
      .rejectsOnce(throttled())
      .callsFake(acceptAll);
    const response = await handler(post({ events }), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body).acceptedCount).toBe(10);
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls.map((c) => c.args[0].input.Records!.length)).toEqual([10, 3, 3]);
    const retried = calls[2].args[0].input.Records!.map(
      (r) => JSON.parse(Buffer.from(r.Data!).toString()).event_id,
    );
    expect(retried).toEqual(['evt-1', 'evt-5', 'evt-9']);
    expect(delays).toEqual([50, 100]);
  });

  it('answers 503 with the undelivered indexes when Firehose keeps failing a few records', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 1,
      RequestResponses: (input.Records ?? []).map((r, i) =>
        JSON.parse(Buffer.from(r.Data!).toString()).event_id === 'evt-2'
          ? { ErrorCode: 'InternalFailure' }
          : { RecordId: `r${i}` },
      ),
    }));
    const response = await handler(post({ events: [validEvent(0), validEvent(1), validEvent(2)] }), context);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'retry-after': '5' });
    const body = JSON.parse(response.body);
    expect(body.delivered).toEqual([
      { index: 0, event_id: 'evt-0' },
      { index: 1, event_id: 'evt-1' },
    ]);
    expect(body.undelivered).toEqual([{ index: 2, event_id: 'evt-2' }]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(config.maxAttempts);
  });

  it('answers 503 and claims nothing when Firehose is throttling throughout', async () => {
    firehose.on(PutRecordBatchCommand).rejects(throttled());
    const response = await handler(post({ events: [validEvent(0), validEvent(1)] }), context);
    expect(response.statusCode).toBe(503);
    const body = JSON.parse(response.body);
    expect(body.delivered).toEqual([]);
    expect(body.undelivered.map((u: { index: number }) => u.index)).toEqual([0, 1]);
    expect(delays).toHaveLength(config.maxAttempts - 1);
    expect(delays.every((d) => d <= config.maxDelayMs)).toBe(true);
  });

  it('does not count a response without a record id as delivered', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    const response = await handler(post({ events: [validEvent(0)] }), context);
    expect(response.statusCode).toBe(503);
  });

  it('stops retrying on a permanent error', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(Object.assign(new Error('no such stream'), { name: 'ResourceNotFoundException' }));
    const response = await handler(post({ events: [validEvent(0)] }), context);
    expect(response.statusCode).toBe(503);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
  });

  it('gives up on a PutRecordBatch call that never answers and retries it', async () => {
    const quick = createHandler(
      readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events-stream', FIREHOSE_CALL_TIMEOUT_MS: '100' }),
      { firehose: new FirehoseClient({ region: 'us-east-1' }), now: () => NOW, sleep: async () => undefined },
    );
    let calls = 0;
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      calls++;
      return calls === 1 ? new Promise(() => undefined) : acceptAll(input);
    });
    const response = await quick(post({ events: [validEvent(0), validEvent(1)] }), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ acceptedCount: 2 });
    expect(calls).toBe(2);
  });

  it('answers 503 naming every event when Firehose never answers, well within the function timeout', async () => {
    const quick = createHandler(
      readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events-stream', FIREHOSE_CALL_TIMEOUT_MS: '100' }),
      { firehose: new FirehoseClient({ region: 'us-east-1' }), now: () => NOW, sleep: async () => undefined },
    );
    firehose.on(PutRecordBatchCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    const response = await quick(post({ events: [validEvent(0), validEvent(1)] }), context);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).undelivered).toEqual([
      { index: 0, event_id: 'evt-0' },
      { index: 1, event_id: 'evt-1' },
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(4);
  });

  it('refuses an event naming a field twice, and a body naming events twice, instead of keeping the last', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const one = JSON.stringify(validEvent(1));
    const body = `{"events":[${JSON.stringify(validEvent(0))},${one.replace('{', '{"\\u0065vent_id":"evt-x",')}]}`;
    const response = await handler(post(body), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({
      accepted: [{ index: 0, event_id: 'evt-0' }],
      rejected: [{ index: 1, reason: 'repeated_field', field: 'event_id' }],
    });
    const sent = firehose.commandCalls(PutRecordBatchCommand)[0].args[0].input.Records ?? [];
    expect(sent.map((r) => JSON.parse(Buffer.from(r.Data!).toString()).event_id)).toEqual(['evt-0']);

    const twice = `{"events":[${JSON.stringify(validEvent(2))}],"events":[${JSON.stringify(validEvent(3))}]}`;
    const refused = await handler(post(twice), context);
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ field: 'events', message: /more than once/ });
  });

  it('does not call Firehose when every event is rejected', async () => {
    const response = await handler(post({ events: [{}, { event_id: 1 }] }), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ acceptedCount: 0, rejectedCount: 2 });
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it.each([
    [undefined, 400, 'body'],
    ['{', 400, 'body'],
    ['[]', 400, 'body'],
    [{ event: [] }, 400, 'events'],
    [{ events: {} }, 400, 'events'],
    [{ events: [] }, 400, 'events'],
    [{ events: Array.from({ length: 501 }, (_, i) => validEvent(i)) }, 400, 'events'],
    ['x'.repeat(2 * 1024 * 1024), 413, 'body'],
  ])('rejects the body %#', async (body, status, field) => {
    const text = typeof body === 'object' ? JSON.stringify(body) : body;
    const response = await handler({ body: text } as APIGatewayProxyEvent, context);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toMatchObject({
      field,
      error: expect.any(String),
      message: expect.any(String),
    });
  });

  it('decodes a base64 body', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const body = Buffer.from(JSON.stringify({ events: [validEvent(0)] })).toString('base64');
    const response = await handler({ body, isBase64Encoded: true } as APIGatewayProxyEvent, context);
    expect(response.statusCode).toBe(202);
  });

  it('accepts ids that differ only in case or punctuation as distinct events, exactly as sent', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const ids = ['EVT-1', 'evt-1', 'evt.1', 'evt_1', '\uff25\uff36\uff34-1', '\u0435vt-1'];
    const response = await handler(
      post({ events: ids.map((id, i) => validEvent(i, { event_id: id })) }),
      context,
    );
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({
      acceptedCount: ids.length,
      accepted: ids.map((event_id, index) => ({ index, event_id })),
    });
    const records = firehose
      .commandCalls(PutRecordBatchCommand)[0]
      .args[0].input.Records!.map((r) => JSON.parse(Buffer.from(r.Data!).toString('utf8')).event_id);
    expect(records).toEqual(ids);
  });

  it('rejects an id holding NUL, U+FFFD or a control character with its reason, and sends the rest', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const bad = ['evt\u00001', 'evt\ufffd1', 'evt\u001b1'];
    const response = await handler(
      post({ events: [...bad.map((id, i) => validEvent(i, { event_id: id })), validEvent(9)] }),
      context,
    );
    expect(JSON.parse(response.body)).toMatchObject({
      acceptedCount: 1,
      accepted: [{ index: 3, event_id: 'evt-9' }],
      rejected: bad.map((event_id, index) => ({ index, event_id, reason: 'invalid_id', field: 'event_id' })),
    });
  });

  it.each([
    ['a base64 body with a byte that is not UTF-8', true, Buffer.from([0xff])],
    ['a base64 body with a truncated sequence', true, Buffer.from([0xe2, 0x82])],
    ['a base64 body with an overlong encoding', true, Buffer.from([0xc0, 0xaf])],
    ['a base64 body with an encoded surrogate', true, Buffer.from([0xed, 0xa0, 0x80])],
    ['a text body with a lone surrogate', false, '\ud800'],
  ])('answers 400 for %s instead of decoding it into another id', async (_, base64, inside) => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const [before, after] = JSON.stringify({ events: [validEvent(0, { event_id: 'evt-@' })] }).split('@');
    const body = base64
      ? Buffer.concat([Buffer.from(before), inside as Buffer, Buffer.from(after)]).toString('base64')
      : before + (inside as string) + after;
    const response = await handler({ body, isBase64Encoded: base64 } as APIGatewayProxyEvent, context);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'BadRequest',
      message: 'the body is not valid UTF-8',
      field: 'body',
    });
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('accepts a body that starts with a UTF-8 byte order mark', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
    const json = Buffer.from(JSON.stringify({ events: [validEvent(0)] }));
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]).toString('base64');
    const response = await handler({ body, isBase64Encoded: true } as APIGatewayProxyEvent, context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ acceptedCount: 1 });
  });

  it('fails the cold start on a bad configuration', () => {
    expect(() => readIngestConfig({})).toThrow(/EVENTS_DELIVERY_STREAM/);
    expect(() => readIngestConfig({ EVENTS_DELIVERY_STREAM: 's', MAX_EVENTS_PER_REQUEST: '501' })).toThrow(
      /MAX_EVENTS_PER_REQUEST/,
    );
  });
});
