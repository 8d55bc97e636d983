import '../../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import { createHandler, readIngestConfig } from '../../../../../lambda/artist-recommender/events/handler';
import { captureStdout } from '../../../../support/powertools-env';
import { NOW, validEvent } from './fixtures';
import { seededRandom } from '../../../../../scripts/support/seeded-random';

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
  '💥',
  [],
  {},
  [null],
  { __proto__: null },
  'constructor',
  '__proto__',
  'x'.repeat(1000),
  '2026-13-45T99:99:99Z',
  NaN,
];

function mutate(random: () => number): string {
  const pick = <T>(values: T[]): T => values[Math.floor(random() * values.length)];
  const kind = Math.floor(random() * 6);
  if (kind === 0) {
    // Truncated or corrupted JSON text.
    const text = JSON.stringify({ events: [validEvent(1), validEvent(2)] });
    const cut = Math.floor(random() * text.length);
    return text.slice(0, cut) + pick(['', '"', '\\', '}', '\u0000', ',,']);
  }
  if (kind === 1) return JSON.stringify(pick(WEIRD));
  if (kind === 2) return JSON.stringify({ events: pick(WEIRD) });
  const events = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => {
    const event: Record<string, unknown> = validEvent(i);
    const fields = Object.keys(event);
    for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
      const field = pick(fields);
      if (random() < 0.3) delete event[field];
      else event[field] = pick(WEIRD);
    }
    return kind === 3 ? event : pick([event, ...WEIRD]);
  });
  return JSON.stringify({ events, extra: pick(WEIRD) });
}

describe('POST /v1/events fuzzing', () => {
  const firehose = apiCheckedMockClient(FirehoseClient);
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
    FailedPutCount: 0,
    RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
  }));
  const handler = createHandler(readIngestConfig({ EVENTS_DELIVERY_STREAM: 's' }), {
    firehose: new FirehoseClient({ region: 'us-east-1' }),
    now: () => NOW,
  });

  it('answers every one of 600 malformed bodies with a 4xx or 202 and no internals', async () => {
    const stdout = captureStdout();
    const random = seededRandom(20260301);
    const statuses = new Map<number, number>();
    try {
      for (let n = 0; n < 600; n++) {
        const body = mutate(random);
        const base64 = random() < 0.1;
        const response = await handler(
          {
            body: base64 ? Buffer.from(body).toString('base64') : body,
            isBase64Encoded: base64,
          } as APIGatewayProxyEvent,
          { awsRequestId: `fuzz-${n}` },
        );
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500 || !/^(202|400|413)$/.test(String(response.statusCode))) {
          throw new Error(`body #${n} gave ${response.statusCode}: ${body.slice(0, 200)}`);
        }
        expect(response.body).not.toMatch(/\bat .+\.ts:\d+|Error:/);
        JSON.parse(response.body);
      }
    } finally {
      stdout.restore();
    }
    expect(statuses.get(400)).toBeGreaterThan(50);
    expect(statuses.get(202)).toBeGreaterThan(50);
  });
});
