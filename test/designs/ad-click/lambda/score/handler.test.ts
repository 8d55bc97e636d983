import { captureStdout, type StdoutCapture } from '../../support/powertools-env';
import { BatchGetRecordCommand } from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  createHandler,
  EMPTY_FLUSH_WARNING,
  MAX_BODY_BYTES,
} from '../../../../../lambda/ad-click/score/handler';
import { assignVariant } from '../../../../../lambda/platform/realtime/variant';
import {
  FALLBACK_MODEL_VERSION,
  ScoreResponse,
  toModelRequest,
  type ModelRequest,
} from '../../../../../lib/designs/ad-click/contracts';
import {
  ENDPOINT,
  FEATURE_TIMEOUT_MS,
  GLOBAL_PRIOR,
  MODEL_TIMEOUT_MS,
  SEGMENT_GROUP,
  USER_GROUP,
  FakeOnlineStore,
  decodeBody,
  encode,
  fakeProbability,
  lambdaContext,
  mockScoringClients,
  scoreEvent,
  scoreRequest,
  scoringConfig,
  seededStore,
} from '../../support/scoring-fixtures';

const { featureStore, runtime, healthy } = mockScoringClients();
const config = scoringConfig();
const handler = createHandler(config);
let stdout: StdoutCapture;

beforeEach(() => {
  featureStore.reset();
  runtime.reset();
  stdout = captureStdout();
});
afterEach(() => stdout.restore());
afterAll(() => {
  featureStore.restore();
  runtime.restore();
});

function body(result: APIGatewayProxyResult): Record<string, unknown> {
  expect(result.headers?.['content-type']).toBe('application/json');
  return JSON.parse(result.body);
}

function sentModelRequests(): ModelRequest[] {
  return runtime
    .commandCalls(InvokeEndpointCommand)
    .map((call) => decodeBody(call.args[0].input.Body) as ModelRequest);
}

/** An endpoint that never answers but honours the abort signal, as the SDK's HTTP handler does. */
function hangingUntilAborted(onAbort: () => void): never {
  return ((_command: unknown, options?: { abortSignal?: AbortSignal }) =>
    new Promise((_, reject) =>
      options?.abortSignal?.addEventListener('abort', () => {
        onAbort();
        const error = new Error('Request aborted');
        error.name = 'AbortError';
        reject(error);
      }),
    )) as never;
}

describe('scoring handler, happy path', () => {
  test('answers one calibrated probability per candidate, in order, from the user variant', async () => {
    // GIVEN a healthy store and endpoint
    healthy();
    const request = scoreRequest(5);
    const event = scoreEvent(request);

    // WHEN the request is scored
    const result = await handler(event, lambdaContext);

    // THEN the answer is the model's, in the candidates' order
    expect(result.statusCode).toBe(200);
    const answer = ScoreResponse.parse(body(result));
    const variant = assignVariant(request.userId, config.variants);
    expect(answer).toMatchObject({
      requestId: event.requestContext.requestId,
      variant,
      modelVersion: 'ad-click-20261201-1',
      source: 'model',
    });
    expect(answer.scores.map((s) => s.adId)).toEqual(request.candidates.map((c) => c.adId));
    const sent = sentModelRequests();
    expect(sent).toHaveLength(1);
    expect(answer.scores.map((s) => s.probability)).toEqual(
      request.candidates.map((_, i) => fakeProbability(sent[0], i)),
    );
    for (const { probability } of answer.scores) {
      expect(probability).toBeGreaterThan(0);
      expect(probability).toBeLessThan(1);
    }
    // AND the model got the stored user features, in its own contract, on the user's variant
    expect(sent[0]).toEqual(toModelRequest(request, { age_group: '25-34', country: 'US' }));
    expect(sent[0].context).toEqual({
      device: 'mobile',
      placement: 'feed',
      hour_of_day: '13',
      day_of_week: 'tue',
    });
    const invoke = runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input;
    expect(invoke).toMatchObject({
      EndpointName: ENDPOINT,
      TargetVariant: variant,
      InferenceId: event.requestContext.requestId,
      ContentType: 'application/json',
      Accept: 'application/json',
    });
    // AND the store was read once, for the user and each distinct segment, only the features used
    const reads = featureStore.commandCalls(BatchGetRecordCommand);
    expect(reads).toHaveLength(1);
    expect(reads[0].args[0].input.Identifiers).toEqual([
      {
        FeatureGroupName: USER_GROUP,
        RecordIdentifiersValueAsString: ['u000042'],
        FeatureNames: ['age_group', 'country'],
      },
      {
        FeatureGroupName: SEGMENT_GROUP,
        RecordIdentifiersValueAsString: [
          'feed#travel',
          'feed#finance',
          'feed#retail',
          'feed#gaming',
          'feed#auto',
        ],
        FeatureNames: ['ctr'],
      },
    ]);
    // AND a model answer writes no metric line
    expect(stdout.metricNames()).toEqual([]);
  });

  test('keeps a user on one variant across requests, and splits users across variants', async () => {
    healthy();
    const variants = new Set<string>();
    for (let user = 0; user < 40; user++) {
      const userId = `u${user}`;
      const first = body(await handler(scoreEvent(scoreRequest(1, userId)), lambdaContext));
      const second = body(await handler(scoreEvent(scoreRequest(3, userId)), lambdaContext));
      expect(second.variant).toBe(first.variant);
      variants.add(String(first.variant));
    }
    expect([...variants].sort()).toEqual(['challenger', 'champion']);
    const targets = runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.TargetVariant);
    expect(new Set(targets)).toEqual(variants);
  });

  test('a user the store does not hold is scored with unknown features, and is not an error', async () => {
    healthy();
    const request = scoreRequest(2, 'new-user-1');
    const result = await handler(scoreEvent(request), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(body(result).source).toBe('model');
    expect(sentModelRequests()[0].user).toEqual({ user_id: 'new-user-1', age_group: '', country: '' });
    expect(stdout.metricNames()).toEqual([]);
  });

  test('scores a request without hour and day, sending them as unknown', async () => {
    healthy();
    const request = scoreRequest(1);
    const { device, placement } = request.context;
    const context = { device, placement };
    const result = await handler(scoreEvent({ ...request, context }), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(sentModelRequests()[0].context).toEqual({
      device: 'mobile',
      placement: 'feed',
      hour_of_day: '',
      day_of_week: '',
    });
  });

  test('reads a base64-encoded body', async () => {
    healthy();
    const event = scoreEvent(Buffer.from(JSON.stringify(scoreRequest(2))).toString('base64'), {
      isBase64Encoded: true,
    });
    expect((await handler(event, lambdaContext)).statusCode).toBe(200);
  });
});

describe('scoring handler, degraded', () => {
  test('an endpoint error is answered with each segment CTR, else the global prior', async () => {
    // GIVEN a healthy store and an endpoint that fails
    const store = seededStore();
    featureStore.on(BatchGetRecordCommand).callsFake((input) => store.answer(input));
    runtime
      .on(InvokeEndpointCommand)
      .rejects(Object.assign(new Error('Received server error (500)'), { name: 'ModelError' }));
    const request = scoreRequest(3); // travel and finance have a CTR, retail has none

    const result = await handler(scoreEvent(request), lambdaContext);

    // THEN it is still a 200, from the fallback
    expect(result.statusCode).toBe(200);
    const answer = ScoreResponse.parse(body(result));
    expect(answer.source).toBe('fallback');
    expect(answer.modelVersion).toBe(FALLBACK_MODEL_VERSION);
    expect(answer.variant).toBe(assignVariant(request.userId, config.variants));
    expect(answer.scores).toEqual([
      { adId: 'ad00000', probability: 0.052 },
      { adId: 'ad00001', probability: 0.0125 },
      { adId: 'ad00002', probability: GLOBAL_PRIOR },
    ]);
    // AND the store was not read a second time for the fallback
    expect(featureStore.commandCalls(BatchGetRecordCommand)).toHaveLength(1);
    expect(stdout.metricNames().sort()).toEqual([
      'GlobalPriorCandidates',
      'ModelError',
      'ServedFromFallback',
    ]);
  });

  test('an endpoint past its deadline is aborted and answered by the fallback within the deadline', async () => {
    const store = seededStore();
    featureStore.on(BatchGetRecordCommand).callsFake((input) => store.answer(input));
    let aborted = false;
    runtime.send.callsFake(hangingUntilAborted(() => (aborted = true)));
    const started = performance.now();
    const result = await handler(scoreEvent(scoreRequest(2)), lambdaContext);
    const elapsed = performance.now() - started;

    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({
      source: 'fallback',
      scores: [{ probability: 0.052 }, { probability: 0.0125 }],
    });
    expect(aborted).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(MODEL_TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(MODEL_TIMEOUT_MS + 150);
    expect(stdout.metricNames().sort()).toEqual(['ModelTimeout', 'ServedFromFallback']);
  });

  test('an endpoint that ignores the abort is still left at the deadline', async () => {
    healthy();
    runtime.on(InvokeEndpointCommand).callsFake(() => new Promise(() => undefined));
    const started = performance.now();
    const result = await handler(scoreEvent(scoreRequest(1)), lambdaContext);
    expect(performance.now() - started).toBeLessThan(MODEL_TIMEOUT_MS + 150);
    expect(body(result).source).toBe('fallback');
  });

  test.each([
    ['a wrong number of probabilities', { probabilities: [0.1], model_version: 'm' }],
    ['a probability above 1', { probabilities: [0.1, 1.5], model_version: 'm' }],
    ['no model version', { probabilities: [0.1, 0.2] }],
    ['not JSON', '<html>502 Bad Gateway</html>'],
  ])('an endpoint answering %s is answered by the fallback', async (_name, answer) => {
    const store = seededStore();
    featureStore.on(BatchGetRecordCommand).callsFake((input) => store.answer(input));
    runtime.on(InvokeEndpointCommand).resolves({ Body: encode(answer) as never });
    const result = await handler(scoreEvent(scoreRequest(2)), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({
      source: 'fallback',
      scores: [{ probability: 0.052 }, { probability: 0.0125 }],
    });
    expect(stdout.metricNames()).toContain(typeof answer === 'string' ? 'ModelError' : 'ModelAnswerInvalid');
  });

  test('a Feature Store error still asks the model, with the user fields unknown', async () => {
    featureStore
      .on(BatchGetRecordCommand)
      .rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' }));
    runtime.on(InvokeEndpointCommand).callsFake((input) => ({ Body: encode(modelAnswer(input.Body)) }));
    const request = scoreRequest(2);

    const result = await handler(scoreEvent(request), lambdaContext);

    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({ source: 'model', modelVersion: 'ad-click-20261201-1' });
    expect(sentModelRequests()[0]).toEqual(toModelRequest(request, undefined));
    expect(sentModelRequests()[0].user).toEqual({ user_id: 'u000042', age_group: '', country: '' });
    expect(stdout.metricNames()).toEqual(['RecordsError']);
  });

  test('a Feature Store past its deadline still leaves the model its own deadline', async () => {
    let aborted = false;
    featureStore.send.callsFake(hangingUntilAborted(() => (aborted = true)));
    runtime.on(InvokeEndpointCommand).callsFake((input) => ({ Body: encode(modelAnswer(input.Body)) }));
    const started = performance.now();
    const result = await handler(scoreEvent(scoreRequest(2)), lambdaContext);
    const elapsed = performance.now() - started;
    expect(aborted).toBe(true);
    expect(body(result).source).toBe('model');
    expect(elapsed).toBeGreaterThanOrEqual(FEATURE_TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(FEATURE_TIMEOUT_MS + 150);
    expect(stdout.metricNames()).toEqual(['RecordsTimeout']);
  });

  test('both down: every candidate gets the global prior', async () => {
    featureStore
      .on(BatchGetRecordCommand)
      .rejects(Object.assign(new Error('Internal failure'), { name: 'InternalFailure' }));
    runtime
      .on(InvokeEndpointCommand)
      .rejects(Object.assign(new Error('not ready'), { name: 'ModelNotReadyException' }));
    const result = await handler(scoreEvent(scoreRequest(4)), lambdaContext);
    expect(result.statusCode).toBe(200);
    const answer = ScoreResponse.parse(body(result));
    expect(answer.source).toBe('fallback');
    expect(answer.scores.map((s) => s.probability)).toEqual([
      GLOBAL_PRIOR,
      GLOBAL_PRIOR,
      GLOBAL_PRIOR,
      GLOBAL_PRIOR,
    ]);
    expect(stdout.metricNames().sort()).toEqual([
      'GlobalPriorCandidates',
      'ModelError',
      'RecordsError',
      'ServedFromFallback',
    ]);
    const globalPrior = stdout.lines.map((l) => JSON.parse(l)).find((l) => 'GlobalPriorCandidates' in l);
    expect(globalPrior.GlobalPriorCandidates).toBe(4);
  });

  test('records that break their schema, errors and unprocessed ids are counted and not used', async () => {
    const store = new FakeOnlineStore()
      .put(USER_GROUP, 'u000042', { age_group: '25-34', country: 'a-country-name-too-long' })
      .put(SEGMENT_GROUP, 'feed#travel', { ctr: '1.5' })
      .put(SEGMENT_GROUP, 'feed#finance', { ctr: 'NaN' });
    featureStore.on(BatchGetRecordCommand).callsFake((input) => ({
      ...store.answer(input),
      Errors: [
        {
          FeatureGroupName: SEGMENT_GROUP,
          RecordIdentifierValueAsString: 'feed#retail',
          ErrorCode: 'x',
          ErrorMessage: 'y',
        },
      ],
    }));
    runtime.on(InvokeEndpointCommand).rejects(Object.assign(new Error('boom'), { name: 'ModelError' }));

    const result = await handler(scoreEvent(scoreRequest(3)), lambdaContext);

    expect(body(result)).toMatchObject({
      source: 'fallback',
      scores: [{ probability: GLOBAL_PRIOR }, { probability: GLOBAL_PRIOR }, { probability: GLOBAL_PRIOR }],
    });
    const unusable = stdout.lines.map((l) => JSON.parse(l)).find((l) => 'RecordsUnusable' in l);
    expect(unusable.RecordsUnusable).toBe(4);
  });
});

describe('scoring handler, bad requests', () => {
  beforeEach(() => healthy());

  afterEach(() => {
    // Nothing is read or invoked for a request that is refused.
    expect(featureStore.calls()).toHaveLength(0);
    expect(runtime.calls()).toHaveLength(0);
  });

  async function refused(event: ReturnType<typeof scoreEvent>, status = 400) {
    const result = await handler(event, lambdaContext);
    expect(result.statusCode).toBe(status);
    const answer = body(result);
    expect(answer.error).toBe('BadRequest');
    expect(typeof answer.message).toBe('string');
    expect(stdout.metricNames()).toEqual(['BadRequest']);
    return answer;
  }

  test('101 candidates: 400 naming candidates', async () => {
    const answer = await refused(scoreEvent(scoreRequest(101)));
    expect(answer.field).toBe('candidates');
    expect(answer.message).toMatch(/100/);
  });

  test('no candidates: 400 naming candidates', async () => {
    expect((await refused(scoreEvent(scoreRequest(0)))).field).toBe('candidates');
  });

  test.each([
    ['at the top', (r: Record<string, unknown>) => ({ ...r, debug: true }), 'debug'],
    [
      'in the context',
      (r: Record<string, unknown>) => ({ ...r, context: { ...(r.context as object), ip: '1.2.3.4' } }),
      'context.ip',
    ],
    [
      'in a candidate',
      (r: Record<string, unknown>) => ({
        ...r,
        candidates: [
          ...(r.candidates as object[]),
          { adId: 'a', advertiserId: 'b', adCategory: 'c', bid: 2 },
        ],
      }),
      'candidates[3].bid',
    ],
  ])('an unknown key %s: 400 naming it', async (_where, mutate, field) => {
    const answer = await refused(scoreEvent(mutate(scoreRequest(3) as never)));
    expect(answer.field).toBe(field);
    expect(answer.message).toContain(field);
  });

  test.each([
    ['malformed JSON', '{"userId": "u1", '],
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
  ])('%s: 400', async (_name, text) => {
    const answer = await refused(scoreEvent(text));
    expect(answer.field).toBe('body');
  });

  test('a missing body: 400', async () => {
    expect((await refused(scoreEvent('', { body: null }))).field).toBe('body');
  });

  test('a bad id names its field', async () => {
    const request = scoreRequest(2);
    request.candidates[1].adId = 'ad with spaces';
    expect((await refused(scoreEvent(request))).field).toBe('candidates[1].adId');
  });

  test('a category holding the segment separator is refused', async () => {
    const request = scoreRequest(1);
    request.candidates[0].adCategory = 'travel#x';
    expect((await refused(scoreEvent(request))).field).toBe('candidates[0].adCategory');
  });

  test('a body over the limit: 413, before it is parsed', async () => {
    const answer = await refused(scoreEvent(`{"userId":"${'u'.repeat(MAX_BODY_BYTES)}"}`), 413);
    expect(answer.field).toBe('body');
  });

  test('a method other than POST: 405 with Allow', async () => {
    const result = await handler(scoreEvent(scoreRequest(1), { httpMethod: 'GET' }), lambdaContext);
    expect(result.statusCode).toBe(405);
    expect(result.headers?.Allow).toBe('POST');
    expect(body(result).field).toBe('method');
  });
});

function modelAnswer(raw: unknown) {
  const request = decodeBody(raw) as ModelRequest;
  return {
    probabilities: request.candidates.map((_, i) => fakeProbability(request, i)),
    model_version: 'ad-click-20261201-1',
  };
}

test('the warning the handler keeps out of its logs is the one the metrics library gives for an empty flush', () => {
  const warnings: string[] = [];
  const quiet = () => undefined;
  const metrics = new Metrics({
    logger: { debug: quiet, info: quiet, error: quiet, warn: (message: string) => warnings.push(message) },
  });
  metrics.publishStoredMetrics();
  expect(warnings).toHaveLength(1);
  expect(warnings[0].startsWith(EMPTY_FLUSH_WARNING)).toBe(true);
});
