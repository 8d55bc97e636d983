import '../../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  EVENT_CONTRACT,
  EVENT_FIELDS,
  EVENT_TYPES,
  InteractionEvent,
  ITEM_TYPES,
} from '../../../../../lib/designs/artist-recommender/contracts/events';
import { EVENTS_REQUEST_MODEL } from '../../../../../lib/designs/artist-recommender/contracts/events-api';
import { toApiGatewaySchema } from '../../../../../lib/platform/constructs/serving/request-model';
import { parseLine } from '../../../../../lambda/artist-recommender/event-transform/classify';
import { EVENT_COLUMNS, toCopyRow } from '../../../../../lambda/artist-recommender/event-transform/load';
import { createHandler, readIngestConfig } from '../../../../../lambda/artist-recommender/events/handler';
import { validateEvent } from '../../../../../lambda/artist-recommender/events/schema';
import { EventBatch } from '../../../../../lambda/platform/events/request';
import { seededRandom } from '../../../../../scripts/support/seeded-random';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { captureStdout } from '../../../../support/powertools-env';
import { NOW, validEvent } from './fixtures';

const ROOT = join(__dirname, '..', '..', '..', '..', '..');

/** The `events` table of the ETL's migration: each column with its type, and the CHECK lists. */
function eventsTable() {
  const sql = readFileSync(join(ROOT, 'sql', 'artist-recommender', 'migrations', '002_events.sql'), 'utf8');
  const body = /CREATE TABLE events \(\n([\s\S]*?)\n\);/.exec(sql)![1];
  const columns = [...body.matchAll(/^\s+([a-z_]+)\s+(text\[\]|text|timestamptz)(?=\s|,)/gm)].map(
    ([, name, type]) => ({
      name,
      type,
    }),
  );
  const checked = (column: string) =>
    [...new RegExp(`${column} IN \\(([^)]*)\\)`).exec(body)![1].matchAll(/'([^']*)'/g)].map(
      ([, value]) => value,
    );
  return { columns, checked };
}

describe('the event contract and what is written against it', () => {
  const table = eventsTable();
  /** Columns the ETL fills itself: the object an event came from, and when it was loaded. */
  const bookkeeping = ['source_key', 'loaded_at'];

  it("is the ETL's table: a column for each field, text for an id, an array for an id list, a time for ts", () => {
    expect(
      table.columns
        .map((c) => c.name)
        .filter((name) => !bookkeeping.includes(name))
        .sort(),
    ).toEqual([...EVENT_FIELDS].sort());
    const stored = validEvent(3);
    for (const { name, type } of table.columns.filter((c) => !bookkeeping.includes(c.name))) {
      const value = stored[name as keyof typeof stored];
      const expected = name === 'ts' ? 'timestamptz' : Array.isArray(value) ? 'text[]' : 'text';
      expect({ name, type }).toEqual({ name, type: expected });
    }
  });

  it("has the enumerations the table's CHECK constraints allow", () => {
    expect(table.checked('event_type')).toEqual([...EVENT_TYPES]);
    expect(table.checked('item_type')).toEqual([...ITEM_TYPES]);
  });

  it('is what the load copies, column by column', () => {
    expect(EVENT_COLUMNS).toEqual(EVENT_FIELDS);
    const event = validEvent(3, { artist_ids: ['a-1', 'a.2'] }) as InteractionEvent;
    expect(toCopyRow(event).slice(0, -1).split('\t')).toEqual(
      EVENT_COLUMNS.map((column) =>
        column === 'artist_ids' ? '{"a-1","a.2"}' : column === 'song_ids' ? '{}' : event[column],
      ),
    );
  });

  it('returns the test fixtures unchanged: they are events in the stored form', () => {
    for (let n = 0; n < 50; n++) {
      expect(validateEvent(validEvent(n), { now: NOW })).toEqual({ ok: true, event: validEvent(n) });
    }
  });

  it("runs on zod's compiled fast path, and the API's request model comes from the batch schema", () => {
    expect(() => z.compile(InteractionEvent, { strict: true })).not.toThrow();
    expect(EVENTS_REQUEST_MODEL).toEqual(toApiGatewaySchema(EventBatch));
    expect([...EVENT_CONTRACT.fields]).toEqual(EVENT_FIELDS);
  });
});

describe('the ingestion API and the ETL', () => {
  const firehose = apiCheckedMockClient(FirehoseClient);
  const handler = createHandler(readIngestConfig({ EVENTS_DELIVERY_STREAM: 'events' }), {
    firehose: new FirehoseClient({ region: 'us-east-1' }),
    now: () => NOW,
  });
  const WEIRD: unknown[] = [
    null,
    7,
    '',
    ' x',
    'x\u0000',
    '\ufffd',
    [],
    ['a', 1],
    ' CLICK ',
    'Song',
    'album',
    '2026-02-30T00:00:00Z',
    '2026-03-01T13:00:00+02:00',
    '2026-03-01T12:10:00Z',
    '2020-01-01T00:00:00Z',
    Array.from({ length: 101 }, (_, i) => `s${i}`),
    'x'.repeat(200),
  ];

  it('reach the same verdict on 1,000 mutated events, and the ETL stores what the API sent unchanged', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 0,
      RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
    }));
    const random = seededRandom(1234);
    const events = Array.from({ length: 1000 }, (_, n) => {
      const event = validEvent(n);
      for (let m = 0; m < Math.floor(random() * 3); m++) {
        const field = EVENT_FIELDS[Math.floor(random() * EVENT_FIELDS.length)];
        if (random() < 0.2) delete event[field];
        else (event as Record<string, unknown>)[field] = WEIRD[Math.floor(random() * WEIRD.length)];
      }
      return event;
    });
    const stdout = captureStdout();
    const answers = [];
    try {
      for (let start = 0; start < events.length; start += 250) {
        const response = await handler(
          { body: JSON.stringify({ events: events.slice(start, start + 250) }) },
          { awsRequestId: 'r' },
        );
        expect(response.statusCode).toBe(202);
        answers.push(JSON.parse(response.body));
      }
    } finally {
      stdout.restore();
    }
    const rejectedByApi = new Map<number, object>();
    answers.forEach((answer, batch) => {
      for (const { index, reason, field, message } of answer.rejected) {
        rejectedByApi.set(batch * 250 + index, { reason, ...(field ? { field } : {}), message });
      }
    });
    const sent = firehose
      .commandCalls(PutRecordBatchCommand)
      .flatMap((call) =>
        (call.args[0].input.Records ?? []).map((r) => Buffer.from(r.Data!).toString('utf8').slice(0, -1)),
      );

    let accepted = 0;
    events.forEach((event, n) => {
      const verdict = parseLine({ line: n + 1, text: JSON.stringify(event) }, { now: NOW });
      const api = rejectedByApi.get(n);
      if (verdict.kind === 'clean') {
        expect(api).toBeUndefined();
        // What the API delivered is the stored form, which the ETL reads back unchanged.
        expect(sent[accepted]).toBe(JSON.stringify(verdict.event));
        expect(parseLine({ line: 1, text: sent[accepted] }, { now: NOW })).toEqual(verdict);
        accepted++;
      } else {
        expect(verdict.kind).toBe('quarantine');
        const { reason, field, message } = verdict.kind === 'quarantine' ? verdict.record : ({} as never);
        expect(api).toEqual({ reason, ...(field ? { field } : {}), message });
      }
    });
    expect(accepted).toBe(sent.length);
    expect(accepted).toBeGreaterThan(200);
    expect(rejectedByApi.size).toBeGreaterThan(200);
  });
});
