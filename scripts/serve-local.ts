/**
 * `npm run serve:local`: the recommendations handler behind a local HTTP server, against a real
 * redis-server shaped like ElastiCache Serverless (TLS, cluster mode), seeded with demo data.
 *
 *   npm run serve:local -- [--port N] [--users N] [--once]
 *                          [--cache-host H --cache-port P --cache-ca ca.pem] [--no-seed]
 *
 * --once     serves one self-check request, prints it and exits (0 when it was served from the cache).
 * --cache-*  use a cache that is already running instead of starting one (it is seeded too, unless
 *            --no-seed is given).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

// Powertools reads its environment when the handler module loads: set it before the import below.
process.env.POWERTOOLS_SERVICE_NAME ??= 'recommendations';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'ArtistRecommender';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_REGION ??= 'us-east-1';

const ROUTE = /^\/v1\/users\/([^/]*)\/recommendations\/?$/;

interface Options {
  port: number;
  users: number;
  once: boolean;
  seed: boolean;
  cacheHost?: string;
  cachePort?: number;
  cacheCa?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { port: 0, users: 50, once: false, seed: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    const integer = (min: number, max: number) => {
      const parsed = Number(value());
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        throw new Error(`${arg} must be an integer in [${min}, ${max}]`);
      }
      return parsed;
    };
    switch (arg) {
      case '--port':
        options.port = integer(0, 65535);
        break;
      case '--users':
        options.users = integer(1, 100_000);
        break;
      case '--once':
        options.once = true;
        break;
      case '--no-seed':
        options.seed = false;
        break;
      case '--cache-host':
        options.cacheHost = value();
        break;
      case '--cache-port':
        options.cachePort = integer(1, 65535);
        break;
      case '--cache-ca':
        options.cacheCa = readFileSync(value(), 'utf8');
        break;
      case '--help':
        console.log('usage: npm run serve:local -- [--port N] [--users N] [--once] [--no-seed]');
        console.log('       [--cache-host HOST --cache-port PORT --cache-ca CA.pem]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg} (try --help)`);
    }
  }
  if ((options.cacheHost === undefined) !== (options.cachePort === undefined)) {
    throw new Error('--cache-host and --cache-port go together');
  }
  return options;
}

/** What API Gateway (REST, proxy integration) would hand the function for this request. */
export function toProxyEvent(request: IncomingMessage, url: URL, userId: string): APIGatewayProxyEvent {
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (multiValueQuery[name] ??= []).push(value);
  const hasQuery = Object.keys(multiValueQuery).length > 0;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    multiValueHeaders[name] = values;
    headers[name] = values[values.length - 1];
  }
  return {
    resource: '/v1/users/{userId}/recommendations',
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    pathParameters: { userId },
    queryStringParameters: hasQuery
      ? Object.fromEntries(
          Object.entries(multiValueQuery).map(([name, values]) => [name, values[values.length - 1]]),
        )
      : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  response.writeHead(result.statusCode, result.headers as Record<string, string>);
  response.end(result.body);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { startRedisCluster } = await import('../test/support/redis-cluster');
  const { connectAdmin, seedVersion, servingConfig, userIds } =
    await import('../test/support/serving-fixtures');
  const { createHandler } = await import('../lambda/recommendations/handler');

  const redis = options.cacheHost === undefined ? await startRedisCluster() : undefined;
  const cache = redis ?? { host: options.cacheHost!, port: options.cachePort!, ca: options.cacheCa };

  let stopping = false;
  let handler: ReturnType<typeof createHandler> | undefined;
  const server = createServer();
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    handler?.close();
    await redis?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
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
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const match = ROUTE.exec(url.pathname);
      if (!match) {
        send(response, {
          statusCode: 404,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ error: 'NotFound', message: `no route for ${url.pathname.slice(0, 100)}` }),
        });
        return;
      }
      let userId = match[1];
      try {
        userId = decodeURIComponent(userId);
      } catch {
        // API Gateway passes an undecodable segment through; so does this server.
      }
      serve(toProxyEvent(request, url, userId), { awsRequestId: 'local' }).then(
        (result) => send(response, result),
        (error: unknown) => {
          console.error('handler failed', error);
          send(response, { statusCode: 500, headers: {}, body: '{"error":"InternalError"}' });
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/users/user-1/recommendations?limit=5`;

    console.log(`serve:local listening on http://127.0.0.1:${port}`);
    console.log(
      `cache: ${cache.host}:${cache.port} (TLS, cluster mode)${redis ? ', started for this run' : ''}`,
    );
    console.log(`demo users: user-1 .. user-${options.users}`);
    console.log(`try: curl -s '${url}'`);

    if (options.once) {
      const response = await fetch(url);
      const text = await response.text();
      console.log(`self-check: ${response.status} ${text}`);
      const ok = response.status === 200 && (JSON.parse(text) as { source?: string }).source === 'cache';
      await shutdown(ok ? 0 : 1);
    }
  } catch (error) {
    console.error(error);
    await shutdown(1);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
