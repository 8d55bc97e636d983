// Read by Powertools when the handler module loads: the warning of an undelivered batch is the
// line that shows the logger's Lambda context, and Lambda sets the initialization type that
// Powertools takes a cold start from.
process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
import '../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { captureStdout, type StdoutCapture } from '../../../support/powertools-env';
import { eventsHandler } from '../../../../lambda/platform/events/handler';
import { READINGS, reading } from './fixtures';

/** The Lambda entry: Powertools' parser, logger, metrics and tracer around the request handling. */
const firehose = apiCheckedMockClient(FirehoseClient);
const handler = eventsHandler(READINGS, { EVENTS_DELIVERY_STREAM: 'stream', FIREHOSE_MAX_ATTEMPTS: '1' });

function lambdaContext(awsRequestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'events',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:events',
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: '/aws/lambda/events',
    logStreamName: '2026/03/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A REST API proxy event as API Gateway sends it. */
function proxyEvent(body: string, requestId: string): APIGatewayProxyEvent {
  return {
    resource: '/v1/events',
    path: '/v1/events',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      stage: 'v1',
      protocol: 'HTTP/1.1',
      identity: {
        sourceIp: '203.0.113.7',
        userAgent: 'test',
      } as APIGatewayProxyEvent['requestContext']['identity'],
      requestId,
      requestTimeEpoch: 1_772_366_400_000,
      resourceId: 'r1',
      resourcePath: '/v1/events',
      httpMethod: 'POST',
      path: '/v1/events',
    },
  };
}

interface LogLine {
  level?: string;
  message?: string;
  function_request_id?: string;
  cold_start?: boolean;
  requestId?: string;
  _aws?: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
  [metric: string]: unknown;
}

/** Powertools writes warnings and errors to stderr: kept like captureStdout keeps stdout. */
function captureStderr(): { lines: string[]; restore(): void } {
  const original = process.stderr.write;
  const captured: string[] = [];
  process.stderr.write = ((chunk: string | Uint8Array) => {
    captured.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  return { lines: captured, restore: () => void (process.stderr.write = original) };
}

let stdout: StdoutCapture;
let stderr: ReturnType<typeof captureStderr>;
const lines = () => [...stdout.lines, ...stderr.lines].map((line) => JSON.parse(line) as LogLine);
const emf = () => stdout.lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line._aws);

beforeEach(() => {
  firehose.reset();
  stdout = captureStdout();
  stderr = captureStderr();
});
afterEach(() => {
  stderr.restore();
  stdout.restore();
});

describe('the Lambda entry of POST /v1/events', () => {
  it('answers a proxy request and flushes its metrics after every invocation, with a cold start on the first', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 0,
      RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
    }));
    const body = JSON.stringify({ events: [reading(0), reading(1, { unit: 'furlong' })] });
    const first = await handler(proxyEvent(body, 'api-1'), lambdaContext('lambda-1'));
    expect(first.statusCode).toBe(202);
    expect(JSON.parse(first.body)).toMatchObject({ requestId: 'api-1', acceptedCount: 1, rejectedCount: 1 });
    const afterFirst = emf();
    expect(afterFirst.flatMap((line) => line._aws!.CloudWatchMetrics[0].Metrics.map((m) => m.Name))).toEqual(
      expect.arrayContaining(['ColdStart', 'EventsAccepted', 'EventsRejected']),
    );
    expect(afterFirst.find((line) => 'EventsAccepted' in line)).toMatchObject({
      EventsAccepted: 1,
      EventsRejected: 1,
    });

    await handler(proxyEvent(body, 'api-2'), lambdaContext('lambda-2'));
    const second = emf().slice(afterFirst.length);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ EventsAccepted: 1, EventsRejected: 1 });
    expect(second[0]).not.toHaveProperty('ColdStart');
  });

  it('logs with the Lambda context of the invocation', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ServiceUnavailableException' }));
    const response = await handler(
      proxyEvent(JSON.stringify({ events: [reading(0)] }), 'api-3'),
      lambdaContext('lambda-3'),
    );
    expect(response.statusCode).toBe(503);
    expect(lines().find((line) => line.level === 'WARN')).toMatchObject({
      message: 'firehose did not acknowledge events',
      function_request_id: 'lambda-3',
      cold_start: false,
      requestId: 'api-3',
    });
    expect(emf().at(-1)).toMatchObject({ EventsUndelivered: 1 });
  });

  it.each([
    ['an empty invocation', {}],
    ['a body without the rest of a proxy request', { body: '{"events":[]}' }],
    ['a proxy request whose body is not text', { ...proxyEvent('', 'api-4'), body: { events: [] } }],
  ])('answers 400 to %s, parsed by Powertools, and sends nothing', async (_, event) => {
    const response = await handler(event, lambdaContext('lambda-4'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'BadRequest',
      message: 'not an API Gateway proxy request',
    });
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
    expect(emf().at(-1)).toMatchObject({ BadRequest: 1 });
  });
});
