/**
 * `POST /v1/feedback` fuzzing, seeded: bad bodies and bad items mixed with good ones, Firehose
 * mocked at the client boundary and failing records at random (retried). Whatever is sent, the
 * function never answers 5xx; a bad body gets 4xx naming its field; every bad item is refused
 * alone with a reason and, for an object, its field; every good item is stored exactly once, as
 * its own line (none lost, none merged, none sent twice).
 */
import '../../../../support/powertools-env';
import { createHash } from 'node:crypto';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { captureStdout } from '../../../../support/powertools-env';
import { createHandler, readIngestConfig } from '../../../../../lambda/artist-recommender/feedback/handler';
import { seededRandom } from '../../../../../scripts/support/seeded-random';

const NOW = Date.parse('2026-12-02T10:00:00.000Z');
const RECEIVED = new Date(NOW).toISOString();
const firehose = apiCheckedMockClient(FirehoseClient);

/** Values no identifier may be. */
const BAD_IDS: unknown[] = [
  null,
  7,
  true,
  '',
  ' a',
  'a\u0000b',
  '\ufffd',
  '\ud800x',
  '...',
  [],
  {},
  'x'.repeat(129),
];
const BAD_CLICKED: unknown[] = [null, 'true', 'false', 0, 1, [], {}];
const BAD_VARIANTS: unknown[] = [7, '', ' v', [], {}, false];
const BAD_TS: unknown[] = [
  'yesterday',
  5,
  '2026-02-30T00:00:00Z',
  '2020-01-01T00:00:00Z',
  '2027-01-01T00:00:00Z',
  [],
];
const NOT_OBJECTS: unknown[] = [null, 7, 'item', [], true];

interface Good {
  item: Record<string, unknown>;
  /** The line it must be stored as, computed here independently of the handler. */
  line: string;
}

interface Bad {
  item: unknown;
  /** The field the refusal must name; undefined for an item that is not an object. */
  field?: string;
  /** Text to splice in place of the item's JSON (a field named twice). */
  raw?: string;
}

describe('POST /v1/feedback fuzzing', () => {
  it('answers 1,200 seeded requests with no 5xx, refusing each bad item alone and storing each good one once', async () => {
    const random = seededRandom(20261202);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    let serial = 0;

    const goodItem = (): Good => {
      serial++;
      const requestId = pick([`r-${serial}`, `req.${serial}:x`, `ＲＥＱ-${serial}`]);
      const artistId = pick([`a-${serial % 17}`, `artist_${serial % 5}`, `é-${serial % 3}`]);
      const userId = `u-${serial % 97}`;
      const clicked = random() < 0.4;
      const item: Record<string, unknown> = { requestId, userId, artistId, clicked };
      const variantChoice = random();
      if (variantChoice < 0.3) item.variant = pick(['champion', 'challenger']);
      else if (variantChoice < 0.4) item.variant = null;
      let ts = RECEIVED;
      const tsChoice = random();
      if (tsChoice < 0.3) {
        const at = NOW - Math.floor(random() * 86_400_000);
        item.ts = new Date(at).toISOString();
        ts = new Date(at).toISOString();
      } else if (tsChoice < 0.4) {
        item.ts = '2026-12-02T11:00:00+01:00';
        ts = '2026-12-02T10:00:00.000Z';
      } else if (tsChoice < 0.5) {
        item.ts = null;
      }
      if (random() < 0.1) item.extra = { ignored: true };
      const eventId = `fb-${createHash('sha256').update(`${requestId}\n${artistId}\n${clicked}`).digest('hex')}`;
      const line = JSON.stringify({
        event_type: 'feedback',
        event_id: eventId,
        request_id: requestId,
        user_id: userId,
        artist_id: artistId,
        clicked,
        variant: (item.variant as string | null | undefined) ?? null,
        ts,
      });
      return { item, line };
    };

    const badItem = (): Bad => {
      const { item } = goodItem();
      const kind = Math.floor(random() * 7);
      if (kind === 0) return { item: pick(NOT_OBJECTS) };
      if (kind === 1) {
        const field = pick(['requestId', 'userId', 'artistId']);
        if (random() < 0.3) delete item[field];
        else item[field] = pick(BAD_IDS);
        return { item, field };
      }
      if (kind === 2) {
        if (random() < 0.3) delete item.clicked;
        else item.clicked = pick(BAD_CLICKED);
        return { item, field: 'clicked' };
      }
      if (kind === 3) return { item: { ...item, variant: pick(BAD_VARIANTS) }, field: 'variant' };
      if (kind === 4) return { item: { ...item, ts: pick(BAD_TS) }, field: 'ts' };
      if (kind === 5) {
        const json = JSON.stringify(item);
        return { item, field: 'clicked', raw: `${json.slice(0, -1)},"clicked":${!item.clicked}}` };
      }
      // Several problems: the first in the contract's order is the one reported.
      return { item: { ...item, requestId: '', clicked: 'maybe' }, field: 'requestId' };
    };

    const badBody = (): { body: string; base64?: boolean; status: number; field: string } => {
      const kind = Math.floor(random() * 9);
      const items = [goodItem().item, goodItem().item];
      const text = JSON.stringify({ feedback: items });
      if (kind === 0)
        return { body: text.slice(0, Math.floor(random() * (text.length - 1))), status: 400, field: 'body' };
      if (kind === 1) return { body: JSON.stringify(pick(NOT_OBJECTS)), status: 400, field: 'body' };
      if (kind === 2) return { body: JSON.stringify({ events: items }), status: 400, field: 'feedback' };
      if (kind === 3)
        return {
          body: JSON.stringify({ feedback: pick([[], {}, 'x', null, 3]) }),
          status: 400,
          field: 'feedback',
        };
      if (kind === 4) {
        return {
          body: JSON.stringify({ feedback: Array.from({ length: 501 }, () => ({})) }),
          status: 400,
          field: 'feedback',
        };
      }
      if (kind === 5)
        return {
          body: `{"feedback":${JSON.stringify(items)},"feedback":[]}`,
          status: 400,
          field: 'feedback',
        };
      if (kind === 6) {
        const bytes = Buffer.concat([
          Buffer.from('{"feedback":[{"requestId":"'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}]}'),
        ]);
        return { body: bytes.toString('base64'), base64: true, status: 400, field: 'body' };
      }
      if (kind === 7)
        return { body: `{"feedback":[{"requestId":"x${'\ud800'}"}]}`, status: 400, field: 'body' };
      return {
        body: JSON.stringify({ feedback: [{ requestId: 'x'.repeat(2_000_000) }] }),
        status: 413,
        field: 'body',
      };
    };

    // Firehose acknowledges most records and fails the others at random; it keeps only what it acknowledged.
    const stored: string[] = [];
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      const answers = (input.Records ?? []).map((record, i) => {
        if (random() < 0.15) return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' };
        stored.push(Buffer.from(record.Data!).toString('utf8'));
        return { RecordId: `rec-${i}` };
      });
      return { FailedPutCount: answers.filter((a) => 'ErrorCode' in a).length, RequestResponses: answers };
    });
    const handler = createHandler(
      readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events', FIREHOSE_MAX_ATTEMPTS: '10' }),
      {
        firehose: new FirehoseClient({ region: 'us-east-1' }),
        now: () => NOW,
        sleep: async () => undefined,
        random,
      },
      [
        { name: 'champion', weight: 1 },
        { name: 'challenger', weight: 1 },
      ],
    );

    const expectedLines: string[] = [];
    let badBodies = 0;
    let badItems = 0;
    const stdout = captureStdout();
    try {
      for (let n = 0; n < 1200; n++) {
        if (random() < 0.25) {
          badBodies++;
          const bad = badBody();
          const response = await handler(
            { body: bad.body, isBase64Encoded: bad.base64 ?? false, requestContext: { requestId: `q${n}` } },
            { awsRequestId: 'l' },
          );
          const body = JSON.parse(response.body);
          expect({ n, status: response.statusCode, field: body.field }).toEqual({
            n,
            status: bad.status,
            field: bad.field,
          });
          expect(body.error).toMatch(/^(BadRequest|PayloadTooLarge)$/);
          expect(body.message).toEqual(expect.any(String));
          continue;
        }
        const slots: ({ good: Good } | { bad: Bad })[] = Array.from(
          { length: 1 + Math.floor(random() * 8) },
          () => (random() < 0.5 ? { good: goodItem() } : { bad: badItem() }),
        );
        // Now and then a good item is resent in the same batch: two lines, the same event_id.
        const firstGood = slots.find((s): s is { good: Good } => 'good' in s);
        if (firstGood && random() < 0.1) slots.push({ good: firstGood.good });
        const body = `{"feedback":[${slots
          .map((s) => ('good' in s ? JSON.stringify(s.good.item) : (s.bad.raw ?? JSON.stringify(s.bad.item))))
          .join(',')}]}`;
        const response = await handler(
          { body, requestContext: { requestId: `q${n}` } },
          { awsRequestId: 'l' },
        );
        expect({ n, status: response.statusCode }).toEqual({ n, status: 202 });
        const answer = JSON.parse(response.body) as {
          accepted: { index: number }[];
          rejected: { index: number; reason: string; field?: string; message: string }[];
        };
        const rejected = new Map(answer.rejected.map((r) => [r.index, r]));
        slots.forEach((slot, index) => {
          if ('good' in slot) {
            expect({ n, index, rejected: rejected.get(index) }).toEqual({ n, index, rejected: undefined });
            expectedLines.push(slot.good.line);
          } else {
            badItems++;
            const refusal = rejected.get(index);
            expect({ n, index, field: refusal?.field }).toEqual({ n, index, field: slot.bad.field });
            expect(refusal?.reason).toMatch(/^[a-z_]+$/);
            expect(refusal?.message.startsWith(slot.bad.field ?? 'an event')).toBe(true);
          }
        });
        expect(answer.accepted.map((a) => a.index)).toEqual(
          slots.flatMap((slot, index) => ('good' in slot ? [index] : [])),
        );
      }
    } finally {
      stdout.restore();
    }

    expect(badBodies + badItems).toBeGreaterThan(1000);
    expect(expectedLines.length).toBeGreaterThan(1000);
    // Every good item stored exactly once, as its own line: the same lines, the same number of times.
    expect(stored.map((line) => line.slice(0, -1)).sort()).toEqual([...expectedLines].sort());
    expect(stored.every((line) => line.endsWith('}\n'))).toBe(true);
    expect(firehose.commandCalls(PutRecordBatchCommand).length).toBeGreaterThan(900);
  });
});
