/**
 * `POST /v1/events` (API Gateway REST proxy integration) for a design's event contract: a design's
 * handler is `export const handler = eventsHandler(ITS_CONTRACT)`.
 *
 * Request body: `{ "events": [ <event>, ... ] }` (`request.ts`) with 1..MAX_EVENTS_PER_REQUEST
 * events (default and maximum 500, PutRecordBatch's record limit) and at most MAX_BODY_BYTES bytes
 * (default 1 MiB, below PutRecordBatch's 4 MiB per call). Each event follows the design's contract.
 * `<id>` below is the contract's id field (`event_id`, `eventId`).
 *
 * Responses (all JSON):
 * - 202 `{ requestId, acceptedCount, rejectedCount, accepted: [{ index, <id> }],
 *   rejected: [{ index, <id>?, reason, field?, message }] }`: every accepted event was
 *   acknowledged by Firehose; rejected ones failed validation and were not sent.
 * - 400 `{ error: 'BadRequest', message, field? }`: the body is not UTF-8 or not JSON, `events` is
 *   missing, named twice, not an array, empty or too long. 413 `{ error: 'PayloadTooLarge', message,
 *   field }` above MAX_BODY_BYTES.
 * - 503 `{ error: 'Unavailable', message, requestId, delivered: [{ index, <id> }],
 *   undelivered: [{ index, <id> }], rejected: [...] }` with a `retry-after` header when Firehose
 *   did not acknowledge some events after the retries, or the function's time ran out first. Only
 *   `undelivered` should be resent.
 *
 * Environment: EVENTS_DELIVERY_STREAM (required), MAX_EVENTS_PER_REQUEST (500), MAX_BODY_BYTES
 * (1048576), FIREHOSE_MAX_ATTEMPTS (4), FIREHOSE_BASE_DELAY_MS (50), FIREHOSE_MAX_DELAY_MS (1000),
 * FIREHOSE_CALL_TIMEOUT_MS (1500: four calls and their backoff end within a 10 s function),
 * RETRY_AFTER_SECONDS (5), MAX_EVENT_AGE_DAYS (365), MAX_FUTURE_SKEW_SECONDS (300).
 *
 * Another route that ingests a batch of items the same way (`POST /v1/feedback`) passes
 * `IngestOptions`: its batch field, the fields the server fills in (a received-time default), the
 * line stored for an item, and what to count once items are delivered. Its answers are the same,
 * with its batch field in place of `events`.
 */
import type { LambdaInterface } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { parser } from '@aws-lambda-powertools/parser';
import { APIGatewayProxyEventSchema } from '@aws-lambda-powertools/parser/schemas/api-gateway';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { EnvReader } from '../shared/env-reader';
import {
  fieldPath,
  rawEventId,
  repeatedFieldRejection,
  validateEvent,
  type EventContract,
  type EventRejection,
  type EventSchema,
} from './contract';
import { deliverRecords, type DeliveryOptions } from './delivery';
import { findRepeatedKeys, LONE_SURROGATE } from './json-text';
import { FIREHOSE_CALL_BYTES_LIMIT, MAX_EVENTS_PER_REQUEST } from './limits';
import { eventBatchSchema } from './request';

const logger = new Logger();
const metrics = new Metrics();
const tracer = new Tracer();

/**
 * Time kept back from the function's own timeout to write the answer: no Firehose attempt starts
 * unless it can end before then.
 */
export const ANSWER_MARGIN_MS = 500;

/** How a route other than `POST /v1/events` reads, stores and counts its items. */
export interface IngestOptions<S extends EventSchema = EventSchema> {
  /** The body's array field. @default 'events' */
  readonly batchField?: string;
  /**
   * Fills in, before an item is validated, what the server supplies; `receivedAt` is the time the
   * request was received (ISO-8601 UTC). @default - the item as sent
   */
  readonly fill?: (item: unknown, receivedAt: string) => unknown;
  /**
   * Refuses an item before it is validated (a kind the route never takes, whatever else it holds).
   * @default - every item is validated
   */
  readonly screen?: (item: unknown) => EventRejection | undefined;
  /** The line stored for a valid item. @default - the validated item */
  readonly toStored?: (event: z.output<S>) => object;
  /** Called with the items Firehose acknowledged, to count them. @default - nothing more is counted */
  readonly onDelivered?: (events: z.output<S>[], metrics: Metrics) => void;
}

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
      MAX_EVENTS_PER_REQUEST,
      MAX_EVENTS_PER_REQUEST,
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
  reason: string;
  field?: string;
  message: string;
  [id: string]: string | number | undefined;
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

interface RequestEvents {
  items: unknown[];
  /** Events (by index) that name a contract field twice, with the first such field. */
  repeatedFields: Map<number, string>;
}

/** What the handling reads of a proxy request. */
export interface EventsRequest {
  body?: APIGatewayProxyEvent['body'];
  isBase64Encoded?: boolean;
  requestContext?: { requestId?: string };
}

function readEvents(
  event: EventsRequest,
  config: IngestConfig,
  batch: ReturnType<typeof eventBatchSchema>,
  bodyKeys: ReadonlySet<string>,
  field: string,
): RequestEvents {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new BadBody(400, 'BadRequest', `the request body is empty; expected {"${field}": [...]}`, 'body');
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
  // JSON.parse keeps only the last of repeated keys: a second `events` would drop the first batch
  // without a word, and an event naming a field twice would lose one of its values.
  const repeatedFields = new Map<number, string>();
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    for (const { path, key } of findRepeatedKeys(text, bodyKeys)) {
      if (path.length === 0 && key === field) {
        throw new BadBody(400, 'BadRequest', `the body names ${field} more than once`, field);
      }
      const [parent, index] = path;
      if (path.length === 2 && parent === field && typeof index === 'number' && key !== field) {
        if (!repeatedFields.has(index)) repeatedFields.set(index, key);
      }
    }
  }
  const checked = batch.safeParse(parsed);
  if (!checked.success) {
    const [issue] = checked.error.issues;
    throw new BadBody(400, 'BadRequest', issue.message, fieldPath(issue.path.slice(0, 1)) ?? 'body');
  }
  return { items: checked.data[field], repeatedFields };
}

export interface IngestDependencies {
  firehose: FirehoseClient;
  /** The clock of the timestamp window; the delivery deadline always reads the real clock. */
  now?: () => number;
  sleep?: DeliveryOptions['sleep'];
  random?: DeliveryOptions['random'];
}

/** What the handler reads of the Lambda context: the deadline comes from it when there is one. */
export type IngestContext = Pick<Context, 'awsRequestId'> &
  Partial<Pick<Context, 'getRemainingTimeInMillis'>>;

/**
 * The request handling of `POST /v1/events` for `contract`, without the Lambda entry's wrapping:
 * what tests and local runs call. Metrics are recorded on the module's Metrics, which the entry
 * (`eventsHandler`) flushes after each invocation.
 */
export function createEventsHandler<S extends EventSchema>(
  contract: EventContract<S>,
  config: IngestConfig,
  deps: IngestDependencies,
  options: IngestOptions<S> = {},
) {
  const now = deps.now ?? Date.now;
  const field = options.batchField ?? 'events';
  const batch = eventBatchSchema(config.maxEventsPerRequest, field);
  // Keys whose repetition would lose data: the batch in the body, and the fields of each event.
  const bodyKeys: ReadonlySet<string> = new Set([field, ...contract.fields]);
  const idField = contract.idField;
  const { fill, screen, toStored, onDelivered } = options;

  return async (event: EventsRequest, context: IngestContext): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const deadlineAt = context.getRemainingTimeInMillis
      ? Date.now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS
      : undefined;
    try {
      let items: unknown[];
      let repeatedFields: Map<number, string>;
      try {
        ({ items, repeatedFields } = readEvents(event, config, batch, bodyKeys, field));
      } catch (error) {
        if (!(error instanceof BadBody)) throw error;
        metrics.addMetric('BadRequest', MetricUnit.Count, 1);
        const body: Record<string, string> = { error: error.error, message: error.message };
        if (error.field) body.field = error.field;
        return respond(error.statusCode, body);
      }

      const window = { now: now(), maxAgeMs: config.maxAgeMs, maxFutureSkewMs: config.maxFutureSkewMs };
      const receivedAt = new Date(window.now).toISOString();
      const rejected: Rejected[] = [];
      const valid: { index: number; id: string; event: z.output<S>; record: Uint8Array }[] = [];
      items.forEach((item, index) => {
        const repeated = repeatedFields.get(index);
        const result =
          repeated !== undefined
            ? repeatedFieldRejection(repeated)
            : (screen?.(item) ?? validateEvent(contract, fill ? fill(item, receivedAt) : item, window));
        if (result.ok) {
          const stored = toStored ? toStored(result.event) : result.event;
          valid.push({
            index,
            id: result.event[idField] as string,
            event: result.event,
            record: Buffer.from(JSON.stringify(stored) + '\n', 'utf8'),
          });
        } else {
          const entry: Rejected = { index, reason: result.reason, message: result.message };
          const eventId = rawEventId(contract, item);
          if (eventId !== undefined) entry[idField] = eventId;
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
                deadlineAt,
                sleep: deps.sleep,
                random: deps.random,
              },
            )
          : { delivered: [], undelivered: [], attempts: 0, outOfTime: false };
      const named = (position: number) => ({ index: valid[position].index, [idField]: valid[position].id });
      const delivered = delivery.delivered.map(named);
      metrics.addMetric('EventsAccepted', MetricUnit.Count, delivered.length);
      onDelivered?.(
        delivery.delivered.map((position) => valid[position].event),
        metrics,
      );

      if (delivery.undelivered.length > 0) {
        const errors = [...new Set(delivery.undelivered.map((u) => u.error))];
        logger.warn('firehose did not acknowledge events', {
          requestId,
          undelivered: delivery.undelivered.length,
          attempts: delivery.attempts,
          outOfTime: delivery.outOfTime,
          errors,
        });
        metrics.addMetric('EventsUndelivered', MetricUnit.Count, delivery.undelivered.length);
        return respond(
          503,
          {
            error: 'Unavailable',
            message: `${delivery.undelivered.length} ${field === 'events' ? 'events' : 'items'} were not delivered; resend the undelivered ones later`,
            requestId,
            delivered,
            undelivered: delivery.undelivered.map((u) => named(u.position)),
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
      metrics.addMetric('UnexpectedError', MetricUnit.Count, 1);
      return respond(500, { error: 'InternalError', message: 'internal error', requestId });
    }
  };
}

/**
 * What the entry reads of an invocation, with Powertools' own definitions of the proxy event's
 * fields; the body itself is read by `readEvents`, which needs its raw text (repeated keys, bytes
 * that are not UTF-8, its size) that a JSON-parsing envelope would hide.
 */
const ProxyInvocation = APIGatewayProxyEventSchema.pick({ body: true, isBase64Encoded: true }).extend({
  requestContext: z.object({ requestId: z.string() }),
});

/**
 * The Lambda entry of `POST /v1/events` for `contract`: Powertools' parser checks that the
 * invocation is an API Gateway proxy request, the logger adds the Lambda context to every line,
 * the metrics are flushed (with a cold start metric) after every invocation and the invocation and
 * its Firehose calls are traced. The configuration is read and the client built once per container.
 */
export function eventsHandler<S extends EventSchema>(
  contract: EventContract<S>,
  env: NodeJS.ProcessEnv = process.env,
  /** The route's options, from the environment (read with the configuration, at the first call). */
  configure?: (env: NodeJS.ProcessEnv) => IngestOptions<S>,
) {
  let handle: ReturnType<typeof createEventsHandler<S>> | undefined;

  class EventsFunction implements LambdaInterface {
    @tracer.captureLambdaHandler()
    @logger.injectLambdaContext()
    @metrics.logMetrics({ captureColdStartMetric: true })
    @parser({
      schema: ProxyInvocation,
      errorHandler: () => {
        metrics.addMetric('BadRequest', MetricUnit.Count, 1);
        return respond(400, { error: 'BadRequest', message: 'not an API Gateway proxy request' });
      },
    })
    public async handler(
      event: z.output<typeof ProxyInvocation>,
      context: Context,
    ): Promise<APIGatewayProxyResult> {
      handle ??= createEventsHandler(
        contract,
        readIngestConfig(env),
        { firehose: tracer.captureAWSv3Client(new FirehoseClient({})) },
        configure?.(env),
      );
      return handle(event, context);
    }
  }

  const entry = new EventsFunction();
  return entry.handler.bind(entry) as (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;
}
