/**
 * `POST /v1/events` (API Gateway REST proxy integration).
 *
 * Request body: `{ "events": [ <event>, ... ] }` with 1..MAX_EVENTS_PER_REQUEST events (default and
 * maximum 500, PutRecordBatch's record limit) and at most MAX_BODY_BYTES bytes (default 1 MiB, below
 * PutRecordBatch's 4 MiB per call). Each event follows the schema in `schema.ts`.
 *
 * Responses (all JSON):
 * - 202 `{ requestId, acceptedCount, rejectedCount, accepted: [{ index, event_id }],
 *   rejected: [{ index, event_id?, reason, field?, message }] }`: every accepted event was
 *   acknowledged by Firehose; rejected ones failed validation and were not sent.
 * - 400 `{ error: 'BadRequest', message, field? }`: the body is not UTF-8 or not JSON, `events` is
 *   missing, not an array, empty or too long. 413 `{ error: 'PayloadTooLarge', message, field }`
 *   above MAX_BODY_BYTES.
 * - 503 `{ error: 'Unavailable', message, requestId, delivered: [{ index, event_id }],
 *   undelivered: [{ index, event_id }], rejected: [...] }` with a `retry-after` header when Firehose
 *   did not acknowledge some events after the retries. Only `undelivered` should be resent.
 *
 * Environment: EVENTS_DELIVERY_STREAM (required), MAX_EVENTS_PER_REQUEST (500), MAX_BODY_BYTES
 * (1048576), FIREHOSE_MAX_ATTEMPTS (4), FIREHOSE_BASE_DELAY_MS (50), FIREHOSE_MAX_DELAY_MS (1000),
 * FIREHOSE_CALL_TIMEOUT_MS (1500: four calls and their backoff end within the function's 10 s),
 * RETRY_AFTER_SECONDS (5), MAX_EVENT_AGE_DAYS (365), MAX_FUTURE_SKEW_SECONDS (300).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { deliverRecords, type DeliveryOptions } from './delivery';
import {
  EVENT_FIELDS,
  LONE_SURROGATE,
  findRepeatedKeys,
  repeatedFieldRejection,
  validateEvent,
  type RejectReason,
} from './schema';
import { MAX_EVENTS_PER_REQUEST } from './limits';
import { EnvReader } from '../../platform/shared/env-reader';

const logger = new Logger();
const metrics = new Metrics();

/** PutRecordBatch's record limit, which bounds a request (the API's schema repeats it). */
export const FIREHOSE_BATCH_LIMIT = MAX_EVENTS_PER_REQUEST;
export const FIREHOSE_CALL_BYTES_LIMIT = 4 * 1024 * 1024;

export interface IngestConfig {
  streamName: string;
  maxEventsPerRequest: number;
  maxBodyBytes: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  callTimeoutMs: number;
  retryAfterSeconds: number;
  maxAgeMs: number;
  maxFutureSkewMs: number;
}

/** Reads the configuration at cold start; a bad value fails the deployment loudly, not the clients. */
export function readIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const read = new EnvReader(env);
  const config: IngestConfig = {
    streamName: read.text('EVENTS_DELIVERY_STREAM'),
    maxEventsPerRequest: read.integer(
      'MAX_EVENTS_PER_REQUEST',
      1,
      FIREHOSE_BATCH_LIMIT,
      FIREHOSE_BATCH_LIMIT,
    ),
    maxBodyBytes: read.integer('MAX_BODY_BYTES', 1024, FIREHOSE_CALL_BYTES_LIMIT, 1024 * 1024),
    maxAttempts: read.integer('FIREHOSE_MAX_ATTEMPTS', 1, 10, 4),
    baseDelayMs: read.integer('FIREHOSE_BASE_DELAY_MS', 0, 10_000, 50),
    maxDelayMs: read.integer('FIREHOSE_MAX_DELAY_MS', 0, 30_000, 1000),
    callTimeoutMs: read.integer('FIREHOSE_CALL_TIMEOUT_MS', 100, 10_000, 1500),
    retryAfterSeconds: read.integer('RETRY_AFTER_SECONDS', 1, 3600, 5),
    maxAgeMs: read.integer('MAX_EVENT_AGE_DAYS', 1, 3650, 365) * 86_400_000,
    maxFutureSkewMs: read.integer('MAX_FUTURE_SKEW_SECONDS', 0, 86_400, 300) * 1000,
  };
  read.done('configuration');
  return config;
}

interface Rejected {
  index: number;
  event_id?: string;
  reason: RejectReason;
  field?: string;
  message: string;
}

class BadBody extends Error {
  constructor(
    readonly statusCode: 400 | 413,
    readonly error: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function respond(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * Decodes a body or fails on the first byte that is not UTF-8, where Buffer#toString would put
 * U+FFFD in its place and let ids that differ only there become one. A leading BOM is dropped.
 */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function notUtf8(): BadBody {
  return new BadBody(400, 'BadRequest', 'the body is not valid UTF-8', 'body');
}

/** Keys whose repetition would lose data: `events` in the body, and the fields of each event. */
const BODY_KEYS: ReadonlySet<string> = new Set(['events', ...EVENT_FIELDS]);

interface RequestEvents {
  items: unknown[];
  /** Events (by index) that name a contract field twice, with the first such field. */
  repeatedFields: Map<number, string>;
}

function readEvents(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  config: IngestConfig,
): RequestEvents {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new BadBody(400, 'BadRequest', 'the request body is empty; expected {"events": [...]}', 'body');
  }
  if (typeof event.body !== 'string') throw new BadBody(400, 'BadRequest', 'the body must be text', 'body');
  // Text with a lone surrogate would be encoded with U+FFFD in its place: refuse it, as invalid bytes.
  if (!event.isBase64Encoded && LONE_SURROGATE.test(event.body)) throw notUtf8();
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > config.maxBodyBytes) {
    throw new BadBody(413, 'PayloadTooLarge', `the body exceeds ${config.maxBodyBytes} bytes`, 'body');
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    throw notUtf8();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadBody(400, 'BadRequest', 'the body is not valid JSON', 'body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadBody(400, 'BadRequest', 'the body must be a JSON object {"events": [...]}', 'body');
  }
  // JSON.parse keeps only the last of repeated keys: a second `events` would drop the first batch
  // without a word, and an event naming a field twice would lose one of its values.
  const repeatedFields = new Map<number, string>();
  for (const { path, key } of findRepeatedKeys(text, BODY_KEYS)) {
    if (path.length === 0 && key === 'events') {
      throw new BadBody(400, 'BadRequest', 'the body names events more than once', 'events');
    }
    const [parent, index] = path;
    if (path.length === 2 && parent === 'events' && typeof index === 'number' && key !== 'events') {
      if (!repeatedFields.has(index)) repeatedFields.set(index, key);
    }
  }
  const events = (parsed as { events?: unknown }).events;
  if (events === undefined) throw new BadBody(400, 'BadRequest', 'events is required', 'events');
  if (!Array.isArray(events)) throw new BadBody(400, 'BadRequest', 'events must be an array', 'events');
  if (events.length === 0) throw new BadBody(400, 'BadRequest', 'events must not be empty', 'events');
  if (events.length > config.maxEventsPerRequest) {
    throw new BadBody(
      400,
      'BadRequest',
      `events holds ${events.length} items; the maximum per request is ${config.maxEventsPerRequest}`,
      'events',
    );
  }
  return { items: events, repeatedFields };
}

/** The client's event_id, when it is a string, so a rejection can name the event it refers to. */
function rawEventId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { event_id?: unknown }).event_id;
  return typeof id === 'string' ? id.slice(0, 256) : undefined;
}

export interface IngestDependencies {
  firehose: FirehoseClient;
  now?: () => number;
  sleep?: DeliveryOptions['sleep'];
  random?: DeliveryOptions['random'];
}

export function createHandler(config: IngestConfig, deps: IngestDependencies) {
  const now = deps.now ?? Date.now;
  return async (
    event: APIGatewayProxyEvent,
    context: Pick<Context, 'awsRequestId'>,
  ): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    try {
      let items: unknown[];
      let repeatedFields: Map<number, string>;
      try {
        ({ items, repeatedFields } = readEvents(event, config));
      } catch (error) {
        if (!(error instanceof BadBody)) throw error;
        metrics.addMetric('BadRequest', MetricUnit.Count, 1);
        const body: Record<string, string> = { error: error.error, message: error.message };
        if (error.field) body.field = error.field;
        return respond(error.statusCode, body);
      }

      const options = { now: now(), maxAgeMs: config.maxAgeMs, maxFutureSkewMs: config.maxFutureSkewMs };
      const rejected: Rejected[] = [];
      const valid: { index: number; event_id: string; record: Uint8Array }[] = [];
      items.forEach((item, index) => {
        const repeated = repeatedFields.get(index);
        const result =
          repeated === undefined ? validateEvent(item, options) : repeatedFieldRejection(repeated);
        if (result.ok) {
          valid.push({
            index,
            event_id: result.event.event_id,
            record: Buffer.from(JSON.stringify(result.event) + '\n', 'utf8'),
          });
        } else {
          const entry: Rejected = { index, reason: result.reason, message: result.message };
          const eventId = rawEventId(item);
          if (eventId !== undefined) entry.event_id = eventId;
          if (result.field) entry.field = result.field;
          rejected.push(entry);
        }
      });
      metrics.addMetric('EventsRejected', MetricUnit.Count, rejected.length);

      const delivery =
        valid.length > 0
          ? await deliverRecords(
              deps.firehose,
              valid.map((v) => v.record),
              {
                streamName: config.streamName,
                maxAttempts: config.maxAttempts,
                baseDelayMs: config.baseDelayMs,
                maxDelayMs: config.maxDelayMs,
                callTimeoutMs: config.callTimeoutMs,
                sleep: deps.sleep,
                random: deps.random,
              },
            )
          : { delivered: [], undelivered: [], attempts: 0 };
      const delivered = delivery.delivered.map((p) => ({
        index: valid[p].index,
        event_id: valid[p].event_id,
      }));
      metrics.addMetric('EventsAccepted', MetricUnit.Count, delivered.length);

      if (delivery.undelivered.length > 0) {
        const errors = [...new Set(delivery.undelivered.map((u) => u.error))];
        logger.warn('firehose did not acknowledge events', {
          requestId,
          undelivered: delivery.undelivered.length,
          attempts: delivery.attempts,
          errors,
        });
        metrics.addMetric('EventsUndelivered', MetricUnit.Count, delivery.undelivered.length);
        return respond(
          503,
          {
            error: 'Unavailable',
            message: `${delivery.undelivered.length} events were not delivered; resend the undelivered ones later`,
            requestId,
            delivered,
            undelivered: delivery.undelivered.map((u) => ({
              index: valid[u.position].index,
              event_id: valid[u.position].event_id,
            })),
            rejected,
          },
          { 'retry-after': String(config.retryAfterSeconds) },
        );
      }
      return respond(202, {
        requestId,
        acceptedCount: delivered.length,
        rejectedCount: rejected.length,
        accepted: delivered,
        rejected,
      });
    } catch (error) {
      // Only a bug lands here; the client gets no internals, the log gets everything.
      logger.error('unexpected failure', { requestId, error: error as Error });
      return respond(500, { error: 'InternalError', message: 'internal error', requestId });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let cached: ReturnType<typeof createHandler> | undefined;

export const handler = (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
  cached ??= createHandler(readIngestConfig(process.env), { firehose: new FirehoseClient({}) });
  return cached(event, context);
};
