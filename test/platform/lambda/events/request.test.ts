import '../../../support/powertools-env';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { toApiGatewaySchema } from '../../../../lib/platform/constructs/serving/request-model';
import { createEventsHandler, readIngestConfig } from '../../../../lambda/platform/events/handler';
import { MAX_EVENTS_PER_REQUEST } from '../../../../lambda/platform/events/limits';
import { EventBatch } from '../../../../lambda/platform/events/request';
import { seededRandom } from '../../../../scripts/support/seeded-random';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { draft4Validator, renderedModelSchema } from '../../../support/draft4';
import { captureStdout, type StdoutCapture } from '../../../support/powertools-env';
import { mutated, NOW, READINGS, reading, WEIRD } from './fixtures';

const firehose = apiCheckedMockClient(FirehoseClient);
const handler = createEventsHandler(READINGS, readIngestConfig({ EVENTS_DELIVERY_STREAM: 'stream' }), {
  firehose: new FirehoseClient({ region: 'us-east-1' }),
  now: () => NOW,
});

let stdout: StdoutCapture;
beforeEach(() => {
  firehose.reset();
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
    FailedPutCount: 0,
    RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
  }));
  stdout = captureStdout();
});
afterEach(() => stdout.restore());

describe('the API Gateway model of POST /v1/events', () => {
  const model = toApiGatewaySchema(EventBatch);
  const gatewayAccepts = draft4Validator(renderedModelSchema(model));

  it('describes the batch, not the events, which the function accepts or refuses one by one', () => {
    expect(renderedModelSchema(model)).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      properties: {
        events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: {} },
      },
      required: ['events'],
    });
  });

  it('agrees with the function on 1,000 bodies: the gateway refuses exactly the batches the function refuses', async () => {
    const random = seededRandom(404);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    const statuses: number[] = [];
    for (let n = 0; n < 1000; n++) {
      const kind = Math.floor(random() * 4);
      const events = Array.from({ length: Math.floor(random() * 6) }, (_, i) =>
        random() < 0.5 ? reading(i) : mutated(reading(i), random),
      );
      const body: unknown =
        kind === 0
          ? { events, other: pick(WEIRD) }
          : kind === 1
            ? { events: pick(WEIRD) }
            : kind === 2
              ? pick(WEIRD)
              : { events: [...events, ...WEIRD.slice(0, Math.floor(random() * WEIRD.length))] };
      const response = await handler({ body: JSON.stringify(body) }, { awsRequestId: `r-${n}` });
      statuses.push(response.statusCode);
      const functionTakesBatch = response.statusCode === 202;
      if (!functionTakesBatch) expect(response.statusCode).toBe(400);
      if (gatewayAccepts(body) !== functionTakesBatch) {
        throw new Error(
          `body #${n}: gateway ${gatewayAccepts(body)}, function ${response.statusCode}: ${response.body}`,
        );
      }
    }
    // Both verdicts are well represented.
    expect(statuses.filter((status) => status === 202).length).toBeGreaterThan(200);
    expect(statuses.filter((status) => status === 400).length).toBeGreaterThan(200);
  });
});
