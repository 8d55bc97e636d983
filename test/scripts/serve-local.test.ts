/**
 * Runs `scripts/serve-local.ts` as a user would, issues the curl it prints (with fetch) and stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

interface Started {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('npm run serve:local', () => {
  let server: Started | undefined;

  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });

  it('serves the printed curl, answers 404 off the route, and stops its cache on SIGTERM', async () => {
    server = start(process.execPath, [TS_NODE, '--transpile-only', 'scripts/serve-local.ts', '--users', '5']);
    const [, cachePort] = await server.waitFor(/cache: 127\.0\.0\.1:(\d+)/);
    const [, url] = await server.waitFor(/try: curl -s '([^']+)'/);

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { userId: string; source: string; items: unknown[] };
    expect(body).toMatchObject({ userId: 'user-1', source: 'cache' });
    expect(body.items).toHaveLength(5);

    const origin = new URL(url).origin;
    const missing = await fetch(`${origin}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'NotFound' });

    const bad = await fetch(`${origin}/v1/users/${encodeURIComponent('a:b')}/recommendations?limit=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'BadRequest', field: 'userId' });

    const twice = await fetch(`${origin}/v1/users/user-2/recommendations?limit=1&limit=2`);
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ field: 'limit' });

    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await portIsClosed(Number(cachePort))).toBe(true);
  });

  it('passes its --once self-check through the npm script', async () => {
    server = start('npm', ['run', '--silent', 'serve:local', '--', '--once', '--users', '3']);
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/self-check: 200 .*"source":"cache"/);
  });
});
