/**
 * `npm run serve:local`: the recommendations handler behind a local HTTP server, against a real
 * redis-server shaped like ElastiCache Serverless (TLS, cluster mode), seeded with demo data.
 *
 *   npm run serve:local -- [--port 0] [--users 50] [--once]
 *                          [--cache-host H --cache-port P [--cache-ca ca.pem]] [--no-seed]
 *
 * --once     serves one self-check request, prints it and exits (0 when it was served from the cache).
 * --cache-*  use a cache that is already running instead of starting one (it is seeded too, unless
 *            --no-seed is given).
 *
 * Every error is JSON `{ error, message, field }`, as the handler writes it: 400 for a request target
 * that is not a path (or for HTTP the parser refuses, or a Host header missing or repeated), 404 off
 * the route, 405 with `Allow: GET`, 408 for headers not sent within 5 s, 417 for an `Expect` other
 * than `100-continue`; a CONNECT is answered the same way, then its connection closed. No request
 * can stop the server. Whatever ends the process (a normal stop, SIGINT, SIGTERM, SIGHUP, an error
 * nothing else caught), the cache started for the run is stopped and its directory, which holds the
 * TLS private key, removed.
 */
import { readFileSync } from 'node:fs';
import {
  STATUS_CODES,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorResponse } from '../../lambda/platform/realtime/http';
import type { LocalRedisCluster } from '../../test/support/redis-cluster';
import { Cli, describeFailure, integer, runMain, text, type Value } from '../support/cli';

// Powertools reads its environment when the handler module loads: set it before the import below.
process.env.POWERTOOLS_SERVICE_NAME ??= 'recommendations';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'ArtistRecommender';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_REGION ??= 'us-east-1';

const ROUTE = /^\/v1\/users\/([^/]*)\/recommendations\/?$/;

/**
 * An origin-form request target: a path of RFC 3986 `pchar` and `/`, then an optional query of
 * visible ASCII (browsers send `[`, `]`, `|` unencoded there, so the query is not held to RFC 3986).
 * Anything else (`*`, `//[`, a raw space or non-ASCII byte) is refused before it is parsed.
 * https://www.rfc-editor.org/rfc/rfc9112#section-3.2.1, https://url.spec.whatwg.org/#query-state
 */
const ORIGIN_FORM = /^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*(?:\?[\x21-\x22\x24-\x7e]*)?$/;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long a client has to send its request headers. */
const HEADERS_TIMEOUT_MS = 5000;

type Handler = (
  event: APIGatewayProxyEvent,
  context: Pick<Context, 'awsRequestId'>,
) => Promise<APIGatewayProxyResult>;

export interface ServeOptions {
  port: number;
  users: number;
  once: boolean;
  seed: boolean;
  cacheHost?: string;
  cachePort?: number;
  /** The PEM text of --cache-ca (the file is read while parsing, so a bad path is bad usage). */
  cacheCa?: string;
}

/** The command line of `npm run serve:local`. */
export function serveCli(): Cli {
  return new Cli({
    name: 'serve:local',
    usage: 'npm run serve:local --',
    description:
      'The recommendations handler behind a local HTTP server on 127.0.0.1, against a real redis-server ' +
      'configured like ElastiCache Serverless (TLS, cluster mode), seeded with demo lists. Prints a curl line.',
    notes: [
      'Stops on Ctrl-C (SIGINT), SIGTERM or SIGHUP; the cache it started, and the directory holding its TLS',
      'key, go with it. Needs redis-server and openssl; no AWS account.',
    ].join('\n'),
    exitCodes: { 1: 'the server could not start, or --once was not answered from the cache' },
  })
    .option('--port <port>', 'port to listen on (0: any free port)', integer(0, 65535), 0)
    .option('--users <count>', 'demo users to seed (user-1 .. user-N)', integer(1, 100_000), 50)
    .flag('--once', 'serve one self-check request, print it and exit (0 when it came from the cache)')
    .flag('--no-seed', 'do not seed the cache (with --cache-host: use what it holds)')
    .option(
      '--cache-host <host>',
      'use this running cache instead of starting one (with --cache-port)',
      text('a host name'),
      undefined,
      'start a redis-server for the run',
    )
    .option('--cache-port <port>', 'port of --cache-host', integer(1, 65535), undefined, 'none')
    .option(
      '--cache-ca <file>',
      'PEM CA certificate that signed the certificate of --cache-host',
      readableFile(),
      undefined,
      "Node's bundled CAs",
    );
}

/** A file that can be read, as its text. */
function readableFile(): Value<string> {
  return {
    expects: 'a readable file',
    parse(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        throw new Error(`a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    },
  };
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseServeArgs(argv: readonly string[]): ServeOptions {
  return serveCli().parse<ServeOptions>(argv, (options, problem) => {
    if ((options.cacheHost === undefined) !== (options.cachePort === undefined))
      problem('--cache-host and --cache-port go together');
    if (options.cacheCa !== undefined && options.cacheHost === undefined)
      problem('--cache-ca goes with --cache-host');
  });
}

export interface RequestTarget {
  /** The path as sent, still percent-encoded. */
  readonly path: string;
  readonly query: URLSearchParams;
}

/** Splits a request target into path and query; undefined when it is not one. Never throws. */
export function parseTarget(target: string): RequestTarget | undefined {
  let originForm = target;
  if (/^https?:\/\//i.test(target)) {
    // A server must accept the absolute-form too (RFC 9112, section 3.2.2); only its path and query
    // matter here. `new URL` throws on a target such as `http://%zz/`.
    try {
      const url = new URL(target);
      originForm = url.pathname + url.search;
    } catch {
      return undefined;
    }
  }
  if (!ORIGIN_FORM.test(originForm)) return undefined;
  const at = originForm.indexOf('?');
  return at === -1
    ? { path: originForm, query: new URLSearchParams() }
    : { path: originForm.slice(0, at), query: new URLSearchParams(originForm.slice(at + 1)) };
}

/**
 * What the function receives for this request behind API Gateway (REST, proxy integration). The
 * Lambda runtime hands the function a parsed JSON document, so the event goes through JSON here
 * too: a parameter or header named `__proto__` or `constructor` arrives as an own key of a plain
 * object, exactly as in AWS. The maps are built without a prototype so such names stay data.
 */
export function toProxyEvent(
  request: Pick<IncomingMessage, 'method' | 'headers'>,
  target: RequestTarget,
  userId: string,
): APIGatewayProxyEvent {
  const multiValueQuery = new Map<string, string[]>();
  for (const [name, value] of target.query) {
    const values = multiValueQuery.get(name);
    if (values) values.push(value);
    else multiValueQuery.set(name, [value]);
  }
  const headers = new Map<string, string>();
  const multiValueHeaders = new Map<string, string[]>();
  for (const [name, value] of Object.entries(request.headers as IncomingHttpHeaders)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    multiValueHeaders.set(name, values);
    headers.set(name, values[values.length - 1]);
  }
  const hasQuery = multiValueQuery.size > 0;
  const event = {
    resource: '/v1/users/{userId}/recommendations',
    path: target.path,
    httpMethod: request.method ?? 'GET',
    headers: record(headers),
    multiValueHeaders: record(multiValueHeaders),
    pathParameters: { userId },
    queryStringParameters: hasQuery
      ? record(new Map([...multiValueQuery].map(([name, values]) => [name, values[values.length - 1]])))
      : null,
    multiValueQueryStringParameters: hasQuery ? record(multiValueQuery) : null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    },
  };
  return JSON.parse(JSON.stringify(event)) as APIGatewayProxyEvent;
}

/** A prototype-less object: assigning `__proto__` or `constructor` to it stores data, nothing else. */
function record<T>(entries: Map<string, T>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [name, value] of entries) out[name] = value;
  return out;
}

/**
 * The answer to one request: 400 for a target that is not a path, 404 off the route, 405 with
 * `Allow` for another method (the handler's), else the handler's answer. Every error has the handler's JSON shape
 * `{ error, message, field }`. Never rejects: a failure is answered, not thrown.
 */
export async function answer(
  request: Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'rawHeaders' | 'httpVersion'>,
  serve: Handler,
): Promise<APIGatewayProxyResult> {
  let event: APIGatewayProxyEvent;
  try {
    // Node would answer these itself with an empty body (requireHostHeader), and would keep the
    // first of two Host lines; RFC 9112 asks for a 400 in both cases.
    // https://www.rfc-editor.org/rfc/rfc9112#section-3.2
    const hosts = request.rawHeaders.filter((name, at) => at % 2 === 0 && /^host$/i.test(name)).length;
    if (hosts > 1 || (hosts === 0 && request.httpVersion !== '1.0')) {
      return errorResponse(
        400,
        'BadRequest',
        `an HTTP/1.1 request carries exactly one Host header, this one has ${hosts}`,
        'host',
      );
    }
    const target = parseTarget(request.url ?? '');
    if (!target) {
      return errorResponse(
        400,
        'BadRequest',
        'the request target must be an RFC 3986 path and query, e.g. /v1/users/user-1/recommendations?limit=5',
        'path',
      );
    }
    const match = ROUTE.exec(target.path);
    if (!match) {
      return errorResponse(404, 'NotFound', `no route for ${target.path.slice(0, 100)}`, 'path');
    }
    let userId = match[1];
    try {
      userId = decodeURIComponent(userId);
    } catch {
      // API Gateway passes an undecodable segment through; so does this server.
    }
    event = toProxyEvent(request, target, userId);
  } catch (error) {
    console.error('request could not be read', error);
    return errorResponse(400, 'BadRequest', 'the request could not be read', 'path');
  }
  try {
    // The handler's 405 names the allowed methods itself (RFC 9110, section 15.5.6).
    return await serve(event, { awsRequestId: 'local' });
  } catch (error) {
    console.error('handler failed', error);
    return errorResponse(500, 'InternalError', 'the handler failed; see the server log');
  }
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  try {
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.body);
  } catch (error) {
    // A header value Node refuses (a handler bug): answer 500 if nothing was sent yet.
    console.error('response could not be written', error);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const fallback = errorResponse(500, 'InternalError', 'the response could not be written');
    response.writeHead(fallback.statusCode, fallback.headers as Record<string, string>);
    response.end(fallback.body);
  }
}

/**
 * The response last started on each connection, settled once it is written or abandoned. Node writes
 * pipelined responses in request order, so when this one settles every earlier one has too.
 */
const lastResponse = new WeakMap<Socket, Promise<void>>();
/** Connections whose parse error is already being answered (the parser can report it again). */
const refused = new WeakSet<Socket>();

function trackResponse(request: IncomingMessage, response: ServerResponse): void {
  lastResponse.set(request.socket, new Promise((resolve) => response.once('close', () => resolve())));
}

/**
 * Requests Node's HTTP parser rejects (bad request line or header, oversized headers) get the same
 * JSON shape. https://nodejs.org/api/http.html#event-clienterror
 *
 * The error is written after the answers to the requests pipelined before the bad one: written at
 * once, it would be read as the answer to the first of them, and theirs would be lost
 * (RFC 9112, section 9.3.2). https://www.rfc-editor.org/rfc/rfc9112#section-9.3.2
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (refused.has(socket)) return;
  refused.add(socket);
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const result = errorResponse(
    status,
    'BadRequest',
    `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`,
    'request',
  );
  void (lastResponse.get(socket) ?? Promise.resolve()).then(() => {
    if (socket.writable) writeAndClose(socket, result);
    else socket.destroy();
  });
}

/**
 * Writes a whole response on a socket Node's HTTP layer has let go of (a parse error, a CONNECT),
 * then closes it. https://nodejs.org/api/http.html#event-connect
 */
function writeAndClose(socket: Socket, result: APIGatewayProxyResult): void {
  const body = result.body ?? '';
  const headers = Object.entries(result.headers ?? {})
    .map(([name, value]) => `${name}: ${String(value)}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${result.statusCode} ${STATUS_CODES[result.statusCode] ?? ''}\r\n${headers}` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * A CONNECT leaves Node's HTTP layer (without a listener Node drops the connection unanswered):
 * it gets the answer any other method would, and the connection is closed. The socket has no
 * error listener any more, so one is added: a client resetting it must not end the server.
 */
function answerConnect(request: IncomingMessage, socket: Socket, serve: Handler): void {
  socket.on('error', () => socket.destroy());
  void answer(request, serve).then((result) => {
    if (socket.writable) writeAndClose(socket, result);
    else socket.destroy();
  });
}

async function main(options: ServeOptions): Promise<void> {
  const server = createServer({
    // The server answers a missing Host itself, in the JSON shape (see answer()).
    requireHostHeader: false,
    // A client that never finishes its headers (slowloris) is answered 408 and dropped within
    // seconds, not after Node's defaults (60 s, checked every 30 s). Every client of this server
    // is on the same machine and sends its headers at once.
    // https://nodejs.org/api/http.html#serverheaderstimeout
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: 2 * HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: 500,
  });
  let redis: Promise<LocalRedisCluster | undefined> = Promise.resolve(undefined);
  let handler:
    | ReturnType<typeof import('../../lambda/artist-recommender/recommendations/handler').createHandler>
    | undefined;

  // Every way out goes through here, so the cache started for this run (and the directory holding
  // its TLS private key) is removed: a normal stop, a signal, or an error nothing else caught.
  let stopping: Promise<never> | undefined;
  const shutdown = (code: number): Promise<never> =>
    (stopping ??= (async () => {
      server.close();
      server.closeAllConnections();
      try {
        handler?.close();
        await (await redis.catch(() => undefined))?.stop();
      } catch (error) {
        console.error('serve:local: the cache did not stop cleanly', error);
        code = code || 1;
      }
      process.exit(code);
    })());
  for (const signal of SIGNALS) process.on(signal, () => void shutdown(0));
  const fail = (what: string) => (error: unknown) => {
    console.error(`serve:local: ${what}`, error);
    void shutdown(1);
  };
  process.on('uncaughtException', fail('unexpected error'));
  process.on('unhandledRejection', fail('unhandled rejection'));
  server.on('clientError', answerClientError);

  try {
    const { startRedisCluster } = await import('../../test/support/redis-cluster');
    const { connectAdmin, seedVersion, servingConfig, userIds } =
      await import('../../test/designs/artist-recommender/support/serving-fixtures');
    const { createHandler } = await import('../../lambda/artist-recommender/recommendations/handler');

    redis = options.cacheHost === undefined ? startRedisCluster() : Promise.resolve(undefined);
    const started = await redis;
    if (stopping) return;
    const cache = started ?? { host: options.cacheHost!, port: options.cachePort!, ca: options.cacheCa };

    if (options.seed) {
      const admin = await connectAdmin(cache);
      await seedVersion(admin, { version: `demo-${Date.now()}`, userIds: userIds(options.users) });
      admin.disconnect();
    }
    handler = createHandler(servingConfig(cache, { MODEL_ENDPOINT_NAME: process.env.MODEL_ENDPOINT_NAME }), {
      cacheCa: cache.ca,
    });
    const serve = handler;

    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      trackResponse(request, response);
      void answer(request, serve).then((result) => send(response, result));
    });
    server.on('connect', (request: IncomingMessage, socket: Socket) => answerConnect(request, socket, serve));
    // Node answers an Expect other than 100-continue with an empty 417 unless this is handled.
    // https://nodejs.org/api/http.html#event-checkexpectation
    server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
      trackResponse(request, response);
      send(
        response,
        errorResponse(417, 'BadRequest', 'the only expectation this server meets is 100-continue', 'expect'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', fail('server error'));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/users/user-1/recommendations?limit=5`;

    console.log(`serve:local listening on http://127.0.0.1:${port}`);
    console.log(
      `cache: ${cache.host}:${cache.port} (TLS, cluster mode)${started ? ', started for this run' : ''}`,
    );
    console.log(`demo users: user-1 .. user-${options.users}`);
    console.log(`try: curl -s '${url}'`);

    if (options.once) {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      console.log(`self-check: ${response.status} ${text}`);
      const ok = response.status === 200 && (JSON.parse(text) as { source?: string }).source === 'cache';
      await shutdown(ok ? 0 : 1);
    }
  } catch (error) {
    console.error(describeFailure('serve:local', error).text);
    await shutdown(1);
  }
}

if (require.main === module) {
  // A bad command line ends here (exit 2); every later failure goes through shutdown() in main().
  runMain('serve:local', async () => {
    await main(parseServeArgs(process.argv.slice(2)));
  });
}
