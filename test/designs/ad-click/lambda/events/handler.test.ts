import '../../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import {
  AD_EVENT_CONTRACT,
  AdEvent,
  type ClickEvent,
  type ImpressionEvent,
} from '../../../../../lib/designs/ad-click/contracts/events';
import { EVENTS_REQUEST_MODEL } from '../../../../../lib/designs/ad-click/contracts/events-api';
import { toApiGatewaySchema } from '../../../../../lib/platform/constructs/serving/request-model';
import { createHandler, readIngestConfig } from '../../../../../lambda/ad-click/events/handler';
import { EventBatch } from '../../../../../lambda/platform/events/request';
import { seededRandom } from '../../../../../scripts/support/seeded-random';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { captureStdout, type StdoutCapture } from '../../../../support/powertools-env';

const NOW = Date.parse('2026-03-01T12:00:00Z');

/** Impression `n`, in the stored form: validating it returns it unchanged. */
function impression(n: number): ImpressionEvent {
  return {
    eventId: `imp-${n}`,
    type: 'impression',
    userId: `user-${n % 7}`,
    adId: `ad-${n % 13}`,
    advertiserId: `adv-${n % 3}`,
    adCategory: ['travel', 'finance', 'retail'][n % 3],
    placement: ['feed', 'sidebar'][n % 2],
    device: ['mobile', 'desktop', 'tablet'][n % 3],
    requestId: `req-${n}`,
    timestamp: new Date(NOW - 60_000 * (n + 1)).toISOString(),
  };
}

/** The click on impression `n`. */
function click(n: number): ClickEvent {
  const shown = impression(n);
  return {
    eventId: `clk-${n}`,
    type: 'click',
    userId: shown.userId,
    adId: shown.adId,
    requestId: shown.requestId,
    timestamp: new Date(NOW - 30_000 * (n + 1)).toISOString(),
  };
}

const firehose = apiCheckedMockClient(FirehoseClient);
const handler = createHandler(readIngestConfig({ EVENTS_DELIVERY_STREAM: 'ad-events' }), {
  firehose: new FirehoseClient({ region: 'us-east-1' }),
  now: () => NOW,
});
const context = { awsRequestId: 'test-request' };
const post = (body: unknown) =>
  ({ body: typeof body === 'string' ? body : JSON.stringify(body) }) as APIGatewayProxyEvent;

function acceptAll(input: PutRecordBatchCommandInput) {
  return {
    FailedPutCount: 0,
    RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
  };
}

/** What Firehose received: one JSON line per record. */
function sentRecords(): unknown[] {
  return firehose.commandCalls(PutRecordBatchCommand).flatMap((call) =>
    (call.args[0].input.Records ?? []).map((record) => {
      const line = Buffer.from(record.Data!).toString('utf8');
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
      return JSON.parse(line);
    }),
  );
}

let stdout: StdoutCapture;
beforeEach(() => {
  firehose.reset();
  firehose.on(PutRecordBatchCommand).callsFake(acceptAll);
  stdout = captureStdout();
});
afterEach(() => stdout.restore());

describe('POST /v1/events of ad click prediction', () => {
  it('sends impressions and clicks as stored JSON lines and names them by eventId', async () => {
    const events = [impression(0), click(0), impression(1)];
    const response = await handler(post({ events }), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({
      requestId: 'test-request',
      acceptedCount: 3,
      rejectedCount: 0,
      accepted: [
        { index: 0, eventId: 'imp-0' },
        { index: 1, eventId: 'clk-0' },
        { index: 2, eventId: 'imp-1' },
      ],
      rejected: [],
    });
    expect(sentRecords()).toEqual(events);
  });

  it('stores timestamps in UTC and only the fields of the kind sent', async () => {
    const local = { ...click(2), timestamp: '2026-03-01T12:30:00+01:00', placement: 'feed', note: 'x' };
    const response = await handler(post({ events: [local] }), context);
    expect(response.statusCode).toBe(202);
    expect(sentRecords()).toEqual([{ ...click(2), timestamp: '2026-03-01T11:30:00.000Z' }]);
  });

  it.each([
    [
      'an unknown type',
      { ...impression(1), type: 'view' },
      'unknown_event_type',
      'type',
      'type must be one of impression, click',
    ],
    [
      'a type in another case',
      { ...impression(1), type: 'Click' },
      'unknown_event_type',
      'type',
      'type must be one of impression, click',
    ],
    ['no type', { ...impression(1), type: undefined }, 'missing_field', 'type', 'type is required'],
    [
      'a type that is not a string',
      { ...impression(1), type: 7 },
      'wrong_type',
      'type',
      'type must be a string',
    ],
    [
      'an impression without its device',
      { ...impression(1), device: undefined },
      'missing_field',
      'device',
      'device is required',
    ],
    [
      'a device that is not a slug',
      { ...impression(1), device: 'Smart TV' },
      'invalid_value',
      'device',
      expect.stringMatching(/^device must be a lower-case slug/),
    ],
    [
      'an empty advertiser id',
      { ...impression(1), advertiserId: '' },
      'invalid_value',
      'advertiserId',
      expect.stringMatching(/^advertiserId must be 1 to 64 characters .*as the scoring request takes it$/),
    ],
    [
      'a user id the scoring request would refuse',
      { ...impression(1), userId: 'user 1' },
      'invalid_value',
      'userId',
      expect.stringMatching(/^userId must be 1 to 64 characters/),
    ],
    [
      'a click without its request',
      { ...click(1), requestId: undefined },
      'missing_field',
      'requestId',
      'requestId is required',
    ],
    [
      'an ad id that is not a string',
      { ...click(1), adId: ['ad-1'] },
      'wrong_type',
      'adId',
      'adId must be a string',
    ],
    [
      'a date without a time',
      { ...click(1), timestamp: '2026-03-01' },
      'invalid_timestamp',
      'timestamp',
      expect.stringMatching(/^timestamp must be ISO-8601/),
    ],
    [
      'a time in the future',
      { ...click(1), timestamp: '2026-03-02T00:00:00Z' },
      'future_timestamp',
      'timestamp',
      'timestamp is in the future',
    ],
  ])('refuses %s, naming the field', async (_, event, reason, field, message) => {
    const response = await handler(post({ events: [impression(0), event] }), context);
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body);
    expect(body.accepted).toEqual([{ index: 0, eventId: 'imp-0' }]);
    expect(body.rejected).toEqual([
      {
        index: 1,
        ...(typeof event.eventId === 'string' ? { eventId: event.eventId } : {}),
        reason,
        field,
        message,
      },
    ]);
    expect(sentRecords()).toEqual([impression(0)]);
  });

  it('refuses an event that names a field twice', async () => {
    const text = JSON.stringify(click(3)).replace('{', '{"type":"impression",');
    const response = await handler(post(`{"events":[${text}]}`), context);
    expect(JSON.parse(response.body).rejected).toEqual([
      expect.objectContaining({ index: 0, eventId: 'clk-3', reason: 'repeated_field', field: 'type' }),
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it("exports the API's request model, derived from the batch schema the function checks", () => {
    expect(EVENTS_REQUEST_MODEL).toEqual(toApiGatewaySchema(EventBatch));
  });

  it("validates on zod's compiled fast path", () => {
    expect(() => z.compile(AdEvent, { strict: true })).not.toThrow();
    expect([...AD_EVENT_CONTRACT.fields]).toEqual([
      'eventId',
      'type',
      'userId',
      'adId',
      'advertiserId',
      'adCategory',
      'placement',
      'device',
      'requestId',
      'timestamp',
    ]);
  });
});

const WEIRD: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\ufffd',
  '💥',
  [],
  {},
  [null],
  'constructor',
  '__proto__',
  'impression',
  'click',
  'Mobile',
  'x'.repeat(1000),
  '2026-13-45T99:99:99Z',
  '2026-03-01T11:00:00-05:00',
];

function badPayload(random: () => number): string {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const kind = Math.floor(random() * 6);
  if (kind === 0) {
    const text = JSON.stringify({ events: [impression(1), click(1)] });
    return text.slice(0, Math.floor(random() * text.length)) + pick(['', '"', '\\', '}', '\u0000', ',,']);
  }
  if (kind === 1) return JSON.stringify(pick(WEIRD));
  if (kind === 2) return JSON.stringify({ events: pick(WEIRD) });
  const events = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => {
    const event: Record<string, unknown> = random() < 0.5 ? impression(i) : click(i);
    const fields = [...AD_EVENT_CONTRACT.fields];
    for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
      const field = pick(fields);
      if (random() < 0.3) delete event[field];
      else event[field] = pick(WEIRD);
    }
    return kind === 3 ? event : pick([event, ...WEIRD]);
  });
  return JSON.stringify({ events, extra: pick(WEIRD) });
}

describe('POST /v1/events of ad click prediction, fuzzed', () => {
  it('answers 1,200 malformed payloads with a 4xx or 202, never a 5xx, and sends only valid events', async () => {
    const random = seededRandom(20260301);
    const statuses = new Map<number, number>();
    for (let n = 0; n < 1200; n++) {
      const body = badPayload(random);
      const base64 = random() < 0.1;
      const response = await handler(
        {
          body: base64 ? Buffer.from(body).toString('base64') : body,
          isBase64Encoded: base64,
        } as APIGatewayProxyEvent,
        { awsRequestId: `fuzz-${n}` },
      );
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (![202, 400, 413].includes(response.statusCode)) {
        throw new Error(`payload #${n} gave ${response.statusCode}: ${body.slice(0, 200)}`);
      }
      expect(response.body).not.toMatch(/\bat .+\.ts:\d+|Error:/);
      const answer = JSON.parse(response.body);
      if (response.statusCode === 202) {
        for (const rejected of answer.rejected) {
          expect(rejected).toEqual(
            expect.objectContaining({ reason: expect.any(String), message: expect.any(String) }),
          );
          if (rejected.field !== undefined) {
            expect(AD_EVENT_CONTRACT.fields.has(rejected.field.replace(/\[\d+\]$/, ''))).toBe(true);
            expect(rejected.message.startsWith(rejected.field)).toBe(true);
          }
        }
      }
    }
    for (const record of sentRecords()) expect(AdEvent.safeParse(record).success).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(200);
    expect(statuses.get(202)).toBeGreaterThan(200);
  });
});
