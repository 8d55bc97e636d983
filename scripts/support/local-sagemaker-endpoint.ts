/**
 * A SageMaker real-time endpoint on this machine: the runtime API's `InvokeEndpoint`
 * (`POST /endpoints/<name>/invocations`) in front of a model container's `POST /invocations`, or in
 * front of a function that stands in for one. A client built by the code under test reaches it
 * through the SDK's own endpoint setting (`AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), so the client's whole
 * stack runs: serialisation, signing, HTTP, the deadline's abort, deserialisation of answers and errors.
 *
 * What it answers, as the service does
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html):
 * - the container's 2xx: 200 with its body and Content-Type, and `x-Amzn-Invoked-Production-Variant`;
 * - the container's 4xx or 5xx: 424 `ModelError` with `OriginalStatusCode` and `OriginalMessage`;
 * - no answer within `containerTimeoutMs` (the service gives a container 60 s): 424 `ModelError`;
 * - a container that cannot be reached (stopped): 503 `ServiceUnavailable`;
 * - another endpoint name, an unknown `TargetVariant`, or a request that breaks the pinned API model
 *   (test/aws-api-models, checked unless `checkRequests` is false): 400 `ValidationError`, also kept
 *   in `problems` so a run can fail on it even when the caller swallowed the error.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatProblems, validateRequest } from '../../test/support/aws-api-model/validate';

/** The service's limit on a real-time request body (`BodyBlob` in the API model). */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** How long the service waits for a container's answer. */
export const CONTAINER_TIMEOUT_MS = 60_000;

/** One invocation as the container sees it. */
export interface Invocation {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly accept?: string;
  /** The production variant that answers. */
  readonly variant: string;
}

/** A container's answer. */
export interface ContainerAnswer {
  readonly status: number;
  readonly body: Buffer | string;
  /** @default 'application/json' */
  readonly contentType?: string;
}

export type Container = (invocation: Invocation) => Promise<ContainerAnswer> | ContainerAnswer;

export interface LocalEndpointOptions {
  readonly endpointName: string;
  /**
   * What answers: the base URL of a container serving `POST /invocations` (e.g.
   * `http://127.0.0.1:8080`), or a function in this process.
   */
  readonly container: string | Container;
  /**
   * The endpoint's production variants; a `TargetVariant` outside them is refused, and a request
   * without one is answered by the first.
   * @default - any variant is taken; a request without one is answered by `AllTraffic`
   */
  readonly variants?: readonly string[];
  /**
   * Check each request against the pinned API model of the runtime API.
   * @default true
   */
  readonly checkRequests?: boolean;
  /** @default CONTAINER_TIMEOUT_MS */
  readonly containerTimeoutMs?: number;
}

export interface LocalEndpoint {
  /** The base URL to give the SDK, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Invocations the container answered with a 2xx, by variant. */
  readonly answered: ReadonlyMap<string, number>;
  /** Invocations answered with an error, by the error's type (`ModelError`, `ValidationError`...). */
  readonly failed: ReadonlyMap<string, number>;
  /** Every request refused as invalid, in words. */
  readonly problems: readonly string[];
  close(): Promise<void>;
}

const SERVICE = 'sagemaker-runtime';
const ROUTE = /^\/endpoints\/([^/?]+)\/invocations(?:\?.*)?$/;
/** Request headers of InvokeEndpoint, by the member they carry (the API model's `locationName`s). */
const HEADER_MEMBERS: Readonly<Record<string, string>> = {
  'content-type': 'ContentType',
  accept: 'Accept',
  'x-amzn-sagemaker-custom-attributes': 'CustomAttributes',
  'x-amzn-sagemaker-target-model': 'TargetModel',
  'x-amzn-sagemaker-target-variant': 'TargetVariant',
  'x-amzn-sagemaker-target-container-hostname': 'TargetContainerHostname',
  'x-amzn-sagemaker-inference-id': 'InferenceId',
  'x-amzn-sagemaker-enable-explanations': 'EnableExplanations',
  'x-amzn-sagemaker-inference-component': 'InferenceComponentName',
  'x-amzn-sagemaker-session-id': 'SessionId',
};

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Starts the endpoint on 127.0.0.1, on a free port. */
export async function startLocalEndpoint(options: LocalEndpointOptions): Promise<LocalEndpoint> {
  const timeoutMs = options.containerTimeoutMs ?? CONTAINER_TIMEOUT_MS;
  const container =
    typeof options.container === 'string' ? forwardTo(options.container, timeoutMs) : options.container;
  const answered = new Map<string, number>();
  const failed = new Map<string, number>();
  const problems: string[] = [];
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const route = ROUTE.exec(req.url ?? '');
      if (req.method !== 'POST' || !route) {
        throw new Refusal(404, 'UnknownOperationException', `no operation at ${req.method} ${req.url}`);
      }
      const body = await readBody(req);
      const input = invokeInput(decodeURIComponent(route[1]), req, body);
      if (options.checkRequests !== false) {
        const found = validateRequest(SERVICE, 'InvokeEndpoint', input);
        if (found.length > 0) {
          throw new Refusal(400, 'ValidationError', formatProblems(SERVICE, 'InvokeEndpoint', found));
        }
      }
      if (input.EndpointName !== options.endpointName) {
        throw new Refusal(
          400,
          'ValidationError',
          `Endpoint ${input.EndpointName} of account local not found.`,
        );
      }
      const variant = input.TargetVariant ?? options.variants?.[0] ?? 'AllTraffic';
      if (options.variants && !options.variants.includes(variant)) {
        throw new Refusal(
          400,
          'ValidationError',
          `Endpoint ${input.EndpointName} has no variant ${variant} (it has ${options.variants.join(', ')})`,
        );
      }
      const answer = await container({
        body,
        contentType: input.ContentType,
        accept: input.Accept,
        variant,
      });
      const text = Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body);
      if (answer.status < 200 || answer.status > 299) {
        const kind = answer.status < 500 ? 'client' : 'server';
        const original = text.toString('utf8').slice(0, 4096);
        throw new Refusal(
          424,
          'ModelError',
          `Received ${kind} error (${answer.status}) from ${variant} with message "${original}".`,
          { OriginalStatusCode: answer.status, OriginalMessage: original },
        );
      }
      bump(answered, variant);
      res.writeHead(200, {
        'content-type': answer.contentType ?? 'application/json',
        'content-length': text.length,
        'x-amzn-invoked-production-variant': variant,
      });
      res.end(text);
    } catch (error) {
      const refusal =
        error instanceof Refusal
          ? error
          : new Refusal(500, 'InternalFailure', `the local endpoint failed: ${(error as Error).message}`);
      if (refusal.type === 'ValidationError') problems.push(refusal.message);
      bump(failed, refusal.type);
      const text = Buffer.from(JSON.stringify({ Message: refusal.message, ...refusal.extra }));
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(refusal.status, {
        'content-type': 'application/json',
        'content-length': text.length,
        'x-amzn-errortype': refusal.type,
      });
      res.end(text);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    failed,
    problems,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The body, refused past the service's limit without reading the rest. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Refusal(413, 'ValidationError', `the body is over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The members of an InvokeEndpoint input this endpoint reads; the rest are only checked. */
interface InvokeInput {
  readonly EndpointName: string;
  readonly ContentType?: string;
  readonly Accept?: string;
  readonly TargetVariant?: string;
}

/** The InvokeEndpoint input the HTTP request carries, member by member. */
function invokeInput(endpointName: string, req: IncomingMessage, body: Buffer): InvokeInput {
  const input: Record<string, unknown> = { EndpointName: endpointName, Body: body };
  for (const [header, member] of Object.entries(HEADER_MEMBERS)) {
    const value = req.headers[header];
    if (typeof value === 'string') input[member] = value;
  }
  return input as unknown as InvokeInput;
}

/**
 * A container behind a URL. Each invocation opens its own connection: a container that writes its
 * headers and its body in two sends with Nagle's algorithm on (Python's http.server does) would
 * otherwise make every answer on a kept-alive connection wait for the delayed ACK, about 40 ms.
 */
function forwardTo(base: string, timeoutMs: number): Container {
  const target = new URL('/invocations', base);
  return (invocation) =>
    new Promise<ContainerAnswer>((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-length': invocation.body.length };
      if (invocation.contentType) headers['content-type'] = invocation.contentType;
      if (invocation.accept) headers.accept = invocation.accept;
      const req = httpRequest(
        target,
        { method: 'POST', agent: false, headers, signal: AbortSignal.timeout(timeoutMs) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 500,
              body: Buffer.concat(chunks),
              contentType: res.headers['content-type'],
            }),
          );
          res.on('error', (error) => reject(unreachable(error, timeoutMs)));
        },
      );
      req.on('error', (error) => reject(unreachable(error, timeoutMs)));
      req.end(invocation.body);
    });
}

function unreachable(error: Error, timeoutMs: number): Refusal {
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return new Refusal(
      424,
      'ModelError',
      `Your invocation timed out while waiting for a response from the container (${timeoutMs} ms).`,
    );
  }
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  return new Refusal(503, 'ServiceUnavailable', `the container cannot be reached (${code})`);
}
