import '../../../support/powertools-env';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { validateEvent } from '../../../../lambda/platform/events/contract';
import { createHandler, readIngestConfig } from '../../../../lambda/artist-recommender/events/handler';
import {
  EVENT_CONTRACT,
  feedbackEventId,
  STORED_EVENT_CONTRACT,
} from '../../../../lib/designs/artist-recommender/contracts/events';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { captureStdout } from '../../../support/powertools-env';

const NOW = Date.parse('2026-12-02T10:01:00Z');
const window = { now: NOW };
const recommendation = (items: unknown[] = [{ artist_id: 'a9', position: 1, score: 0.83 }]) => ({
  event_type: 'recommendation',
  event_id: 'r1',
  request_id: 'r1',
  user_id: 'u1',
  variant: 'champion',
  model_version: 'v-2026-12-01',
  source: 'cache',
  items,
  ts: '2026-12-02T10:00:00.000Z',
});
const feedback = (extra: Record<string, unknown> = {}) => ({
  event_type: 'feedback',
  event_id: feedbackEventId('r1', 'a9', true),
  request_id: 'r1',
  user_id: 'u1',
  artist_id: 'a9',
  clicked: true,
  variant: 'champion',
  ts: '2026-12-02T10:00:05.000Z',
  ...extra,
});
const interaction = (eventType: unknown) => ({
  event_id: 'e1',
  user_id: 'u1',
  item_id: 'a1',
  request_id: 'r1',
  variant: 'champion',
  event_type: eventType,
  item_type: 'artist',
  ts: '2026-12-02T10:00:00Z',
});
const verdict = (input: unknown) => {
  const result = validateEvent(STORED_EVENT_CONTRACT, input, window);
  return result.ok ? 'ok' : [result.reason, result.field];
};

describe('STORED_EVENT_CONTRACT: every kind of raw line', () => {
  it('accepts the three kinds, interactions exactly as EVENT_CONTRACT stores them', () => {
    expect(validateEvent(STORED_EVENT_CONTRACT, recommendation(), window)).toEqual({
      ok: true,
      event: recommendation(),
    });
    expect(validateEvent(STORED_EVENT_CONTRACT, feedback(), window)).toEqual({ ok: true, event: feedback() });
    for (const type of ['click', ' CLICK ', 'Play']) {
      expect(validateEvent(STORED_EVENT_CONTRACT, interaction(type), window)).toEqual(
        validateEvent(EVENT_CONTRACT, interaction(type), window),
      );
    }
  });

  it('refuses a bad line with the reason and field of its first problem', () => {
    expect(verdict(interaction('bogus'))).toEqual(['unknown_event_type', 'event_type']);
    expect(verdict(interaction(7))).toEqual(['wrong_type', 'event_type']);
    expect(verdict({ ...feedback(), event_type: undefined })).toEqual(['missing_field', 'event_type']);
    expect(verdict(recommendation([]))).toEqual(['invalid_value', 'items']);
    expect(
      verdict(
        recommendation(
          Array.from({ length: 101 }, (_, i) => ({ artist_id: `a${i}`, position: i + 1, score: 0 })),
        ),
      ),
    ).toEqual(['invalid_value', 'items']);
    expect(
      verdict(
        recommendation([
          { artist_id: 'a', position: 1, score: 0.5 },
          { artist_id: 'b', position: 3, score: 0.4 },
        ]),
      ),
    ).toEqual(['invalid_position', 'items[1].position']);
    expect(verdict(recommendation([{ artist_id: 'a', position: 1, score: 1.5 }]))).toEqual([
      'invalid_value',
      'items[0].score',
    ]);
    expect(verdict(recommendation([{ artist_id: 'a', position: 1.5, score: 0 }]))).toEqual([
      'wrong_type',
      'items[0].position',
    ]);
    expect(verdict({ ...recommendation(), source: 'guess' })).toEqual(['invalid_value', 'source']);
    expect(verdict(feedback({ event_id: 'fb-123' }))).toEqual(['invalid_id', 'event_id']);
    expect(verdict(feedback({ clicked: 'yes' }))).toEqual(['wrong_type', 'clicked']);
    expect(verdict(feedback({ ts: '2030-01-01T00:00:00Z' }))).toEqual(['future_timestamp', 'ts']);
  });

  it('stores a feedback line without a variant with variant null', () => {
    const result = validateEvent(STORED_EVENT_CONTRACT, feedback({ variant: undefined }), window);
    expect(result).toMatchObject({ ok: true, event: { variant: null } });
  });

  it('derives the feedback id from request, artist and clicked only', () => {
    expect(feedbackEventId('r1', 'a9', true)).toMatch(/^fb-[0-9a-f]{64}$/);
    expect(feedbackEventId('r1', 'a9', true)).toBe(feedbackEventId('r1', 'a9', true));
    expect(
      new Set([
        feedbackEventId('r1', 'a9', true),
        feedbackEventId('r1', 'a9', false),
        feedbackEventId('r1\na9', '', true),
      ]).size,
    ).toBe(3);
  });
});

describe('POST /v1/events and the kinds only the service writes', () => {
  const firehose = apiCheckedMockClient(FirehoseClient);
  afterAll(() => firehose.restore());

  it('refuses recommendation and feedback events from clients, naming the field, and sends nothing', async () => {
    const handler = createHandler(readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events' }), {
      firehose: new FirehoseClient({ region: 'us-east-1' }),
      now: () => NOW,
    });
    const stdout = captureStdout();
    try {
      const response = await handler(
        {
          body: JSON.stringify({
            events: [interaction('recommendation'), interaction(' Feedback '), recommendation()],
          }),
        },
        { awsRequestId: 'r' },
      );
      expect(response.statusCode).toBe(202);
      const body = JSON.parse(response.body);
      expect(body.acceptedCount).toBe(0);
      expect(body.rejected).toEqual([
        {
          index: 0,
          event_id: 'e1',
          reason: 'system_event_type',
          field: 'event_type',
          message:
            'event_type recommendation is written by the service only; clients send one of impression, click, play, like',
        },
        expect.objectContaining({ index: 1, reason: 'system_event_type', field: 'event_type' }),
        expect.objectContaining({ index: 2, reason: 'system_event_type', field: 'event_type' }),
      ]);
      expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
    } finally {
      stdout.restore();
    }
  });
});
