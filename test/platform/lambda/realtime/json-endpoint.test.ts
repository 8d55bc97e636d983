import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { EndpointAnswerError, JsonEndpoint } from '../../../../lambda/platform/realtime/json-endpoint';
import { DeadlineExceededError } from '../../../../lambda/platform/shared/deadline';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

const runtime = apiCheckedMockClient(SageMakerRuntimeClient);
const endpoint = new JsonEndpoint(new SageMakerRuntimeClient({ region: 'eu-west-1' }), 'ranker', 50);
const bytes = (text: string) => new TextEncoder().encode(text) as never;

beforeEach(() => runtime.reset());
afterAll(() => runtime.restore());

test('sends JSON to the variant with the inference id, and parses the JSON answer', async () => {
  runtime.on(InvokeEndpointCommand).resolves({ Body: bytes('{"scores":[0.5]}') });
  await expect(
    endpoint.invoke({ items: ['a'] }, { targetVariant: 'challenger', inferenceId: 'req-1' }),
  ).resolves.toEqual({
    scores: [0.5],
  });
  const input = runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input;
  expect(input).toMatchObject({
    EndpointName: 'ranker',
    TargetVariant: 'challenger',
    InferenceId: 'req-1',
    ContentType: 'application/json',
    Accept: 'application/json',
  });
  expect(JSON.parse(new TextDecoder().decode(input.Body as Uint8Array))).toEqual({ items: ['a'] });
});

test.each([' leading-space', 'x'.repeat(65), 'tab\there', 'é'])(
  'leaves out an inference id SageMaker would refuse (%j)',
  async (inferenceId) => {
    runtime.on(InvokeEndpointCommand).resolves({ Body: bytes('{}') });
    await endpoint.invoke({}, { inferenceId });
    expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input.InferenceId).toBeUndefined();
  },
);

test.each([
  ['not JSON', bytes('<html>')],
  ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]) as never],
  ['empty', bytes('')],
])('an answer that is %s is an EndpointAnswerError', async (_name, Body) => {
  runtime.on(InvokeEndpointCommand).resolves({ Body });
  await expect(endpoint.invoke({})).rejects.toThrow(EndpointAnswerError);
});

test('an endpoint that does not answer is a DeadlineExceededError at the deadline', async () => {
  runtime.on(InvokeEndpointCommand).callsFake(() => new Promise(() => undefined));
  const started = performance.now();
  await expect(endpoint.invoke({})).rejects.toThrow(DeadlineExceededError);
  expect(performance.now() - started).toBeLessThan(150);
});
