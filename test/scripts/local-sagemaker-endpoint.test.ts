/**
 * The local SageMaker runtime endpoint answers an unmodified SDK client as the service does: the
 * container's answer with the invoked variant, a container error as ModelError with its original
 * status, a stopped container as ServiceUnavailable, a slow one as ModelError at the deadline, and
 * requests the service would refuse as ValidationError, kept as problems.
 */
import {
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalEndpoint, type LocalEndpoint } from '../../scripts/support/local-sagemaker-endpoint';

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

async function endpoint(options: Omit<Parameters<typeof startLocalEndpoint>[0], 'endpointName'>) {
  const e = await startLocalEndpoint({ endpointName: 'scoring-1', ...options });
  open.push(e);
  // The client a function builds, pointed at the local endpoint; no credential lookup.
  const client = new SageMakerRuntimeClient({
    region: 'us-east-1',
    endpoint: e.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  open.push({ close: () => client.destroy() });
  const invoke = (input: Partial<ConstructorParameters<typeof InvokeEndpointCommand>[0]> = {}) =>
    client.send(
      new InvokeEndpointCommand({
        EndpointName: 'scoring-1',
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: new TextEncoder().encode('{"x":1}'),
        ...input,
      }),
    );
  return { e, invoke };
}

/** A container on loopback: answers `status` with `body`, and keeps what it was sent. */
async function container(status: number, body: string) {
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: text });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const failure = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('the call succeeded');
};

const total = (map: LocalEndpoint['failed']) => Object.fromEntries(map);

describe('local SageMaker runtime endpoint', () => {
  it("forwards to the container's POST /invocations and answers with its body and the variant", async () => {
    const c = await container(200, '{"probabilities":[0.5]}');
    const { e, invoke } = await endpoint({ container: c.url, variants: ['champion', 'challenger'] });

    const answer = await invoke({ TargetVariant: 'challenger' });
    expect(new TextDecoder().decode(answer.Body)).toBe('{"probabilities":[0.5]}');
    expect(answer.ContentType).toBe('application/json');
    expect(answer.InvokedProductionVariant).toBe('challenger');
    expect(c.seen).toEqual([
      {
        method: 'POST',
        url: '/invocations',
        headers: expect.objectContaining({ 'content-type': 'application/json', accept: 'application/json' }),
        body: '{"x":1}',
      },
    ]);
    // Without a TargetVariant, the first variant answers.
    expect((await invoke()).InvokedProductionVariant).toBe('champion');
    expect(Object.fromEntries(e.answered)).toEqual({ challenger: 1, champion: 1 });
  });

  it("a container's error is a ModelError carrying its status and message", async () => {
    const c = await container(400, '{"error":"\'candidates\' is required"}');
    const { e, invoke } = await endpoint({ container: c.url });
    const error = await failure(invoke());
    expect(error).toBeInstanceOf(ModelError);
    expect(error.OriginalStatusCode).toBe(400);
    expect(error.OriginalMessage).toBe('{"error":"\'candidates\' is required"}');
    expect(error.message).toMatch(/^Received client error \(400\) from AllTraffic/);
    expect(total(e.failed)).toEqual({ ModelError: 1 });
    expect(e.problems).toEqual([]);
  });

  it('a stopped container is ServiceUnavailable; a slow one a ModelError at the deadline', async () => {
    const stopped = await container(200, '{}');
    await open.pop()!.close();
    const { invoke } = await endpoint({ container: stopped.url });
    expect(await failure(invoke())).toBeInstanceOf(ServiceUnavailable);

    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    open.push({
      close: () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    });
    const late = await endpoint({
      container: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      containerTimeoutMs: 100,
    });
    const error = await failure(late.invoke());
    expect(error).toBeInstanceOf(ModelError);
    expect(error.message).toMatch(/timed out while waiting for a response from the container \(100 ms\)/);
  });

  it('refuses what the service refuses, as ValidationError kept in problems', async () => {
    const { e, invoke } = await endpoint({
      container: () => ({ status: 200, body: '{}' }),
      variants: ['champion'],
    });

    const otherEndpoint = await failure(invoke({ EndpointName: 'scoring-2' }));
    expect(otherEndpoint).toBeInstanceOf(ValidationError);
    expect(otherEndpoint.message).toBe('Endpoint scoring-2 of account local not found.');

    const otherVariant = await failure(invoke({ TargetVariant: 'challenger' }));
    expect(otherVariant).toBeInstanceOf(ValidationError);

    // The API model's pattern of variant names: no underscore.
    const badName = await failure(invoke({ TargetVariant: 'champion_2' }));
    expect(badName).toBeInstanceOf(ValidationError);
    expect(badName.message).toMatch(/TargetVariant/);

    expect(e.problems).toHaveLength(3);
    expect(total(e.failed)).toEqual({ ValidationError: 3 });
    expect(e.answered.size).toBe(0);
  });
});
