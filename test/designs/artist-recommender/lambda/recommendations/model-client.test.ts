import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { apiCheckedMockClient } from '../../../../support/aws-api-model/mock';
import {
  ModelResponseError,
  SageMakerModelClient,
  checkModelAnswer,
} from '../../../../../lambda/artist-recommender/recommendations/model-client';
import { EndpointAnswerError } from '../../../../../lambda/platform/realtime/json-endpoint';
import { DeadlineExceededError } from '../../../../../lambda/platform/shared/deadline';

describe('checkModelAnswer', () => {
  it('reads the inference contract', () => {
    expect(
      checkModelAnswer(
        JSON.parse(
          '{"model_version":"m1","items":[{"artistId":"a","score":0.5},{"artistId":"b","score":-0.2}]}',
        ),
      ),
    ).toEqual({
      modelVersion: 'm1',
      items: [
        { artistId: 'a', score: 0.5 },
        { artistId: 'b', score: -0.2 },
      ],
    });
  });

  it('accepts an empty list', () => {
    expect(checkModelAnswer({ model_version: 'm1', items: [] })).toEqual({ modelVersion: 'm1', items: [] });
  });

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['camelCase modelVersion', '{"modelVersion":"m1","items":[]}'],
    ['no items', '{"model_version":"m1"}'],
    ['an item out of range', '{"model_version":"m1","items":[{"artistId":"a","score":2}]}'],
    ['an item without id', '{"model_version":"m1","items":[{"score":0.1}]}'],
    ['a numeric artist id', '{"model_version":"m1","items":[{"artistId":7,"score":0.1}]}'],
  ])('refuses an answer that is %s', (_name, body) => {
    expect(() => checkModelAnswer(JSON.parse(body))).toThrow(ModelResponseError);
  });
});

describe('SageMakerModelClient', () => {
  const sageMaker = apiCheckedMockClient(SageMakerRuntimeClient);
  const client = () =>
    new SageMakerModelClient(
      'recommender',
      100,
      async () => new SageMakerRuntimeClient({ region: 'us-east-1' }),
    );
  const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

  beforeEach(() => sageMaker.reset());
  afterAll(() => sageMaker.restore());

  it('asks the endpoint for the user on their variant', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: body({ model_version: 'm1', items: [] }) });
    await expect(client().recommend('user-1', 'challenger', 25)).resolves.toEqual({
      modelVersion: 'm1',
      items: [],
    });
    const input = sageMaker.commandCalls(InvokeEndpointCommand)[0].args[0].input;
    expect(input).toMatchObject({
      EndpointName: 'recommender',
      TargetVariant: 'challenger',
      ContentType: 'application/json',
      Accept: 'application/json',
    });
    expect(JSON.parse(new TextDecoder().decode(input.Body as Uint8Array))).toEqual({
      user_id: 'user-1',
      k: 25,
    });
  });

  it('passes an abort signal that fires at the timeout', async () => {
    let aborted = false;
    sageMaker.send.callsFake(
      (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
        new Promise((_, reject) =>
          options?.abortSignal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('Request aborted'));
          }),
        ),
    );
    await expect(client().recommend('user-1', 'champion', 10)).rejects.toThrow();
    expect(aborted).toBe(true);
  });

  it('gives up at the timeout even when the call ignores the signal', async () => {
    sageMaker.send.callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    await expect(client().recommend('user-1', 'champion', 10)).rejects.toThrow(DeadlineExceededError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses an answer off the contract', async () => {
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: body({ predictions: [] }) });
    await expect(client().recommend('user-1', 'champion', 10)).rejects.toThrow(ModelResponseError);
  });

  it.each([
    ['not JSON', '<html>502</html>'],
    ['empty', ''],
  ])('refuses an answer that is %s', async (_name, text) => {
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(text) as never });
    await expect(client().recommend('user-1', 'champion', 10)).rejects.toThrow(EndpointAnswerError);
  });
});
