/**
 * The Feature Store client the ingestion builds, against a Feature Store runtime served on loopback:
 * its retries are the SDK's own (adaptive mode, INGEST_MAX_ATTEMPTS), run by the pinned SDK the
 * function bundles, with no retry loop of the handler around them.
 */
import { PutRecordCommand } from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { featureStoreClient } from '../../../../../lambda/artist-recommender/feature-store-ingest/handler';

type Answer = { status: number; errorType?: string };

let server: Server;
let endpoint: string;
let answers: Answer[] = [];
const requests: { method?: string; url?: string }[] = [];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      requests.push({ method: request.method, url: request.url });
      const answer = answers.shift() ?? { status: 200 };
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.errorType) headers['x-amzn-errortype'] = answer.errorType;
      response.writeHead(answer.status, headers);
      response.end(answer.errorType ? JSON.stringify({ message: `${answer.errorType} from the test` }) : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers = [];
  requests.length = 0;
});

function client(maxAttempts: number) {
  return featureStoreClient(maxAttempts, {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
  });
}

const put = new PutRecordCommand({
  FeatureGroupName: 'user-features',
  Record: [{ FeatureName: 'user_id', ValueAsString: 'u1' }],
});

describe('the Feature Store client of the ingestion', () => {
  it('retries throttling and a 5xx itself until the record is written', async () => {
    // GIVEN a store that throttles, then fails, then accepts
    answers = [
      { status: 400, errorType: 'ThrottlingException' },
      { status: 500, errorType: 'InternalFailure' },
    ];
    // WHEN one record is put
    await client(8).send(put);
    // THEN the one send made three requests, all to the feature group
    expect(requests).toEqual(Array(3).fill({ method: 'PUT', url: '/FeatureGroup/user-features' }));
  }, 30_000);

  it('stops at INGEST_MAX_ATTEMPTS and reports the last answer', async () => {
    answers = Array(5).fill({ status: 503, errorType: 'ServiceUnavailable' });
    await expect(client(3).send(put)).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    expect(requests).toHaveLength(3);
  }, 30_000);

  it('never retries a refusal that another attempt cannot change', async () => {
    answers = [{ status: 400, errorType: 'ValidationError' }];
    await expect(client(8).send(put)).rejects.toMatchObject({ name: 'ValidationError' });
    expect(requests).toHaveLength(1);
  });

  it('retries in adaptive mode, which slows the client down when the store throttles', async () => {
    const strategy = await client(8).config.retryStrategy();
    expect(strategy).toMatchObject({ mode: 'adaptive' });
  });
});
