import { captureOutput, lambdaContext, logLines } from '../support/invocation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { handler } from '../../../../lambda/platform/invoke-at-deploy/handler';
import { InvokedFunctionError, invokeOrThrow } from '../../../../lambda/platform/invoke-at-deploy/invoke';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';

const lambda = apiCheckedMockClient(LambdaClient);
const client = new LambdaClient({ region: 'us-east-1' });
/** Lambda's response payload as the SDK hands it over. */
const payload = (text: string) =>
  Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
const encode = (value: unknown) => payload(JSON.stringify(value));

afterEach(() => lambda.reset());

describe('invoke at deploy', () => {
  test('returns the result of a successful run and sends the payload synchronously', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode({ loaded: 3 }) });
    await expect(
      invokeOrThrow({ functionName: 'loader', payload: '{"onlyIfEmpty":true}' }, client, 5_000),
    ).resolves.toEqual({ loaded: 3 });
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call.args[0].input.InvocationType).toBe('RequestResponse');
    expect(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)).toBe('{"onlyIfEmpty":true}');
  });

  test("a failed run fails, with the function's error: Lambda answers 200 with FunctionError set", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({
        errorType: 'CacheUnavailableError',
        errorMessage: 'cache did not answer in 2000 ms',
      }),
    });
    const run = invokeOrThrow({ functionName: 'loader', payload: '{}' }, client, 5_000);
    await expect(run).rejects.toBeInstanceOf(InvokedFunctionError);
    await expect(run).rejects.toThrow(
      /loader failed \(Unhandled\): CacheUnavailableError: cache did not answer/,
    );
  });

  test('a payload that is not JSON is reported as it came', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload('Task timed out after 300.00 seconds'),
    });
    await expect(invokeOrThrow({ functionName: 'loader', payload: '{}' }, client, 5_000)).rejects.toThrow(
      /Task timed out after 300\.00 seconds/,
    );
  });

  test('gives up at its deadline instead of waiting for a call that never answers', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    await expect(invokeOrThrow({ functionName: 'loader', payload: '{}' }, client, 200)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('the custom resource', () => {
  const event = (RequestType: string, ResourceProperties: Record<string, string>) => ({
    RequestType,
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:provider',
      ...ResourceProperties,
    },
  });

  test('refuses a payload that is not JSON before invoking anything, naming the property', async () => {
    await expect(
      handler(event('Create', { FunctionName: 'loader', Payload: '{oops' }), lambdaContext('i-0')),
    ).rejects.toThrow('invalid event: ResourceProperties.Payload must be the event as JSON text');
    expect(lambda.calls()).toHaveLength(0);
  });

  test('invokes on create only, and logs the result with the request id', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode({ loaded: 3 }) });
    const output = captureOutput();
    try {
      const props = { FunctionName: 'loader', Payload: '{"onlyIfEmpty":true}' };
      await expect(handler(event('Create', props), lambdaContext('i-1'))).resolves.toEqual({
        PhysicalResourceId: 'invoke-loader',
      });
      await handler(event('Update', props), lambdaContext('i-2'));
      await handler(event('Delete', props), lambdaContext('i-3'));
      expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
      expect(logLines(output).filter((l) => l.message === 'invoked at deploy')).toEqual([
        expect.objectContaining({ function_request_id: 'i-1', result: { loaded: 3 } }),
      ]);
    } finally {
      output.restore();
    }
  });
});
