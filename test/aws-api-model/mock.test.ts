import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ApiModelValidationError,
  apiCheckedMockClient,
  assertNoRecordedProblems,
  takeRecordedProblems,
} from '../support/aws-api-model/mock';
import { botocoreServiceOf } from '../support/aws-api-model/sdk-services';

const client = new SageMakerRuntimeClient({ region: 'eu-west-1' });

afterEach(() => {
  // Each test below consumes what it recorded; anything left is a bug in this file.
  expect(takeRecordedProblems()).toEqual([]);
});

describe('apiCheckedMockClient', () => {
  test('a valid command reaches the configured behaviour', async () => {
    const sageMaker = apiCheckedMockClient(SageMakerRuntimeClient);
    sageMaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('{}') as never });
    const out = await client.send(new InvokeEndpointCommand({ EndpointName: 'recommender', Body: '{}' }));
    expect(out.Body).toBeDefined();
    expect(sageMaker.commandCalls(InvokeEndpointCommand)).toHaveLength(1);
  });

  test('an invalid command rejects with the service, operation and member path, and skips the behaviour', async () => {
    const sageMaker = apiCheckedMockClient(SageMakerRuntimeClient);
    const behaviour = jest.fn().mockResolvedValue({});
    sageMaker.on(InvokeEndpointCommand).callsFake(behaviour);
    const sent = client.send(
      new InvokeEndpointCommand({ EndpointName: 'recommender_v2', Body: '{}', TargetVariant: 'champion' }),
    );
    await expect(sent).rejects.toThrow(ApiModelValidationError);
    await expect(sent).rejects.toThrow(
      /sagemaker-runtime InvokeEndpoint .*\n {2}EndpointName: "recommender_v2" does not match/,
    );
    expect(behaviour).not.toHaveBeenCalled();
    expect(takeRecordedProblems()).toEqual([
      {
        service: 'sagemaker-runtime',
        operation: 'InvokeEndpoint',
        message: expect.stringContaining('EndpointName'),
      },
    ]);
  });

  test('a caller that swallows the rejection still leaves the problem for the afterEach check', async () => {
    const firehose = apiCheckedMockClient(FirehoseClient);
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    const records = Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') }));
    await new FirehoseClient({ region: 'eu-west-1' })
      .send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: records }))
      .catch(() => undefined);
    expect(() => assertNoRecordedProblems()).toThrow(
      /1 SDK call\(s\) .* broke the API model .*\n.*firehose PutRecordBatch[^]*Records: 501 items is above the maximum 500/,
    );
    // assertNoRecordedProblems forgets what it reported, so one bad call fails one test only.
    expect(() => assertNoRecordedProblems()).not.toThrow();
  });

  test('reset() keeps the check in place', async () => {
    const s3 = apiCheckedMockClient(S3Client);
    s3.reset();
    s3.on(GetObjectCommand).resolves({});
    const s3Client = new S3Client({ region: 'eu-west-1' });
    await expect(s3Client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).resolves.toEqual({});
    await expect(s3Client.send(new GetObjectCommand({ Bucket: 'b', Key: '' }))).rejects.toThrow(
      /Key: 0 characters is below the minimum 1/,
    );
    expect(takeRecordedProblems()).toHaveLength(1);
  });

  test('a later mockClient() of the same client replaces the checked one, and restore() puts back the SDK', () => {
    mockClient(SageMakerRuntimeClient).restore(); // undo the mocks of the tests above
    const original = SageMakerRuntimeClient.prototype.send;
    expect(Object.hasOwn(SageMakerRuntimeClient.prototype, 'send')).toBe(false);
    const checked = apiCheckedMockClient(SageMakerRuntimeClient);
    expect(SageMakerRuntimeClient.prototype.send).not.toBe(original);
    const plain = mockClient(SageMakerRuntimeClient);
    expect(SageMakerRuntimeClient.prototype.send).toBe(plain.send);
    plain.restore();
    expect(SageMakerRuntimeClient.prototype.send).toBe(original);
    const again = apiCheckedMockClient(SageMakerRuntimeClient);
    again.restore();
    expect(SageMakerRuntimeClient.prototype.send).toBe(original);
    expect(Object.hasOwn(SageMakerRuntimeClient.prototype, 'send')).toBe(false);
    expect(checked).toBeDefined();
  });

  test('a client of a service without a pinned model is refused when the mock is made', () => {
    class UnpinnedClient {
      config = { serviceId: 'Bedrock Runtime' };
      send(): Promise<unknown> {
        return Promise.resolve({});
      }
    }
    expect(() => botocoreServiceOf(new UnpinnedClient())).toThrow(
      /no pinned API model for the SDK service "Bedrock Runtime"/,
    );
  });
});
