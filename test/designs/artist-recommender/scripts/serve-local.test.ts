/**
 * Runs `scripts/artist-recommender/serve-local.ts` as a user would, issues the curl it prints (with fetch) and stops it;
 * sends malformed requests as raw bytes (no client library tidies them up) and checks that each one
 * gets the JSON error shape and that the server keeps serving; checks that the directory holding the
 * cache's TLS private key is gone however the process ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters]) {
      const match = output.match(waiter.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const match = output.match(pattern);
        if (match) return resolve(match);
        waiters.push({ pattern, resolve });
        void exited.then((code) => reject(new Error(`exited with ${code} before ${pattern}:\n${output}`)));
      }),
  };
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `request` byte for byte on a new connection and reads the answer until the server closes it. */
async function rawRequest(port: number, request: string, timeoutMs = 5000): Promise<RawResponse> {
  const text = await rawExchange(port, request, timeoutMs);
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** Everything the server sends back for `request`, as text, until it closes the connection. */
function rawExchange(port: number, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer in ${timeoutMs} ms to ${JSON.stringify(request.slice(0, 80))}`));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) =>
      reject(new Error(`${error.message} on ${JSON.stringify(request.slice(0, 80))}`)),
    );
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function unchunk(text: string): string {
  let body = '';
  for (let at = 0; ;) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!size) return body;
    body += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

function get(target: string, headers = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;
}

/** Directories the local cache leaves under `dir` (they hold its TLS private key). */
function cacheDirs(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('redis-cluster-'));
}

/** The environment of a server whose temporary files all go under `dir`, where the test can see them. */
function envWithTmp(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: dir };
}

const SERVE = [TS_NODE, '--transpile-only', 'scripts/artist-recommender/serve-local.ts'];

describe('npm run serve:local', () => {
  let server: Started | undefined;
  let tmp: string;

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'serve-local-test-'));
  });

  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      // SIGTERM first, so a server left running by a failed test stops its redis-server too; a
      // SIGKILL alone would leave that process running with no parent.
      const { child, exited } = server;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves the printed curl, answers 404 off the route, and stops its cache on SIGTERM', async () => {
    server = start(process.execPath, [...SERVE, '--users', '5'], envWithTmp(tmp));
    const [, cachePort] = await server.waitFor(/cache: 127\.0\.0\.1:(\d+)/);
    const [, url] = await server.waitFor(/try: curl -s '([^']+)'/);
    expect(cacheDirs(tmp)).toHaveLength(1);
    expect(readdirSync(join(tmp, cacheDirs(tmp)[0]))).toContain('key.pem');

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { userId: string; source: string; items: unknown[] };
    expect(body).toMatchObject({ userId: 'user-1', source: 'cache' });
    expect(body.items).toHaveLength(5);

    const origin = new URL(url).origin;
    const missing = await fetch(`${origin}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'NotFound', field: 'path' });

    const bad = await fetch(`${origin}/v1/users/${encodeURIComponent('a:b')}/recommendations?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'BadRequest', field: 'userId' });

    const twice = await fetch(`${origin}/v1/users/user-2/recommendations?limit=1&limit=2`);
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ field: 'limit' });

    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect(await post.json()).toMatchObject({ error: 'BadRequest', field: 'method' });

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await portIsClosed(Number(cachePort))).toBe(true);
    expect(cacheDirs(tmp)).toEqual([]);
  });

  it('answers every malformed request with the JSON error shape and keeps serving; SIGINT cleans up', async () => {
    server = start(process.execPath, [...SERVE, '--users', '5'], envWithTmp(tmp));
    const [, port] = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    await server.waitFor(/try: curl/);
    const valid = get('/v1/users/user-1/recommendations?limit=2');

    // [what, raw request, status, error, field]; a 200 names the number of items instead.
    const cases: [string, string, number, string | number, string?][] = [
      ['__proto__ as a parameter name', get('/v1/users/user-1/recommendations?__proto__=1&limit=2'), 200, 2],
      [
        'Object.prototype names as parameters',
        get('/v1/users/user-1/recommendations?constructor=x&toString=y&hasOwnProperty=z&valueOf=1&limit=3'),
        200,
        3,
      ],
      ['__proto__ twice', get('/v1/users/user-1/recommendations?__proto__=a&__proto__=b&limit=1'), 200, 1],
      [
        'nested-looking names',
        get('/v1/users/user-1/recommendations?__proto__[limit]=0&constructor[prototype][limit]=0&limit=4'),
        200,
        4,
      ],
      [
        '__proto__ beside a bad limit',
        get('/v1/users/user-1/recommendations?__proto__=1&limit=0'),
        400,
        'BadRequest',
        'limit',
      ],
      ['an undecodable limit', get('/v1/users/user-1/recommendations?limit=%zz'), 400, 'BadRequest', 'limit'],
      [
        'headers named like prototype keys',
        get('/v1/users/user-1/recommendations?limit=1', '__proto__: x\r\nconstructor: y\r\n'),
        200,
        1,
      ],
      ['a target new URL rejects: //[', get('//['), 400, 'BadRequest', 'path'],
      ['an absolute-form target new URL rejects', get('http://%zz/'), 400, 'BadRequest', 'path'],
      ['the asterisk-form', get('*'), 400, 'BadRequest', 'path'],
      [
        'a path with characters outside RFC 3986',
        get('/v1/users/{x}/recommendations'),
        400,
        'BadRequest',
        'path',
      ],
      ['an absolute-form target', get('http://127.0.0.1/v1/users/user-2/recommendations?limit=1'), 200, 1],
      ['an unknown path', get('/v1/nothing'), 404, 'NotFound', 'path'],
      [
        'an unknown path with another method',
        'DELETE /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        404,
        'NotFound',
        'path',
      ],
      [
        'another method on the route',
        'POST /v1/users/user-1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        405,
        'BadRequest',
        'method',
      ],
      ['an undecodable user id', get('/v1/users/%E0%A4%A/recommendations'), 400, 'BadRequest', 'userId'],
      // Node leaves a CONNECT to a listener, and without one drops the connection unanswered.
      [
        'CONNECT to an authority',
        'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n',
        400,
        'BadRequest',
        'path',
      ],
      [
        'CONNECT to the route',
        'CONNECT /v1/users/user-1/recommendations HTTP/1.1\r\nHost: x\r\n\r\n',
        405,
        'BadRequest',
        'method',
      ],
      // Node's own answers to these have an empty body.
      [
        'an expectation other than 100-continue',
        get('/v1/users/user-1/recommendations', 'Expect: bogus\r\n'),
        417,
        'BadRequest',
        'expect',
      ],
      [
        'no Host header',
        'GET /v1/users/user-1/recommendations HTTP/1.1\r\nConnection: close\r\n\r\n',
        400,
        'BadRequest',
        'host',
      ],
      // Node keeps the first of two Host lines and serves; RFC 9112 (section 3.2) asks for a 400.
      ['two Host headers', get('/v1/users/user-1/recommendations', 'Host: y\r\n'), 400, 'BadRequest', 'host'],
      ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400, 'BadRequest', 'request'],
      ['a header line without a colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 400, 'BadRequest', 'request'],
    ];
    for (const [what, request, status, errorOrItems, field] of cases) {
      const response = await rawRequest(Number(port), request);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect({ what, status: response.status, type: response.headers['content-type'] }).toEqual({
        what,
        status,
        type: 'application/json',
      });
      if (status === 200) {
        expect({ what, items: (body.items as unknown[]).length }).toEqual({ what, items: errorOrItems });
      } else {
        expect({ what, body }).toEqual({
          what,
          body: { error: errorOrItems, message: expect.any(String), field },
        });
      }
      if (status === 405) expect(response.headers.allow).toBe('GET');
      // The server is still up and still right after each one.
      expect({ what, after: (await rawRequest(Number(port), valid)).status }).toEqual({ what, after: 200 });
    }

    // Requests pipelined ahead of a malformed one keep their answers, in order; the error comes last.
    const keepAlive = (userId: string) =>
      `GET /v1/users/${userId}/recommendations?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const pipelined = await rawExchange(
      Number(port),
      keepAlive('user-1') + keepAlive('user-2') + 'GET / HTTP/1.1\r\nHost x\r\n\r\n',
    );
    expect(pipelined.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 400']);
    expect(pipelined.match(/"userId":"[^"]+"/g)).toEqual(['"userId":"user-1"', '"userId":"user-2"']);
    expect(pipelined).toMatch(/\{"error":"BadRequest","message":"[^"]+","field":"request"\}$/);

    // Headers that never end (slowloris) are answered 408 within seconds.
    const started = Date.now();
    const slow = await rawRequest(
      Number(port),
      'GET /v1/users/user-1/recommendations HTTP/1.1\r\nHost: x\r\n',
      15_000,
    );
    expect({ status: slow.status, body: JSON.parse(slow.body) }).toEqual({
      status: 408,
      body: { error: 'BadRequest', message: expect.stringContaining('TIMEOUT'), field: 'request' },
    });
    expect(Date.now() - started).toBeLessThan(10_000);

    expect(cacheDirs(tmp)).toHaveLength(1);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(cacheDirs(tmp)).toEqual([]);
  });

  it('exits 1 and removes the key directory when it cannot listen', async () => {
    const taken: Server = await new Promise((resolve) => {
      const blocker = createServer();
      blocker.listen(0, '127.0.0.1', () => resolve(blocker));
    });
    try {
      const { port } = taken.address() as { port: number };
      server = start(process.execPath, [...SERVE, '--users', '2', '--port', String(port)], envWithTmp(tmp));
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(/EADDRINUSE/);
      expect(cacheDirs(tmp)).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses a bad command line in one line, exit 2, before starting a cache', async () => {
    server = start(
      process.execPath,
      [...SERVE, '--cache-port', '6379', '--cache-ca', join(tmp, 'missing.pem'), '--port', '70000'],
      envWithTmp(tmp),
    );
    expect(await server.exited).toBe(2);
    expect(server.output()).toBe(
      'serve:local: --cache-ca must be a readable file (ENOENT), got "' +
        join(tmp, 'missing.pem') +
        '"; --port must be an integer in [0, 65535], got "70000"; --cache-host and --cache-port go together; ' +
        '--cache-ca goes with --cache-host (see --help)\n',
    );
    expect(cacheDirs(tmp)).toEqual([]);
  });

  it('passes its --once self-check through the npm script and leaves no key behind', async () => {
    server = start(
      'npm',
      ['run', '--silent', 'serve:local', '--', '--once', '--users', '3'],
      envWithTmp(tmp),
    );
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/self-check: 200 .*"source":"cache"/);
    expect(cacheDirs(tmp)).toEqual([]);
  });
});
