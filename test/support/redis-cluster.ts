/**
 * A real redis-server shaped like ElastiCache Serverless: TLS only, cluster mode, one node owning all
 * 16384 slots, on a free loopback port, with no persistence. Used by the serving integration tests,
 * `npm run serve:local` and `npm run bench:serving`.
 *
 * A missing redis-server is an error, never a skip: a test that silently skips proves nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'iovalkey';

export interface LocalRedisCluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** PEM certificate of the server; pass it as the client's `ca`. */
  readonly ca: string;
  /** Shuts the server down and removes its files. Safe to call more than once. */
  stop(): Promise<void>;
  /** SIGKILL, to simulate a crash; the server stays down until `restart()`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port, empty (nothing is persisted). */
  restart(options?: RestartOptions): Promise<void>;
}

export interface RestartOptions {
  /**
   * Runs while the node is back and answers, slot map included, but reports cluster_state:fail:
   * what a client sees when it connects to a node that is coming back (redis-server holds a
   * restarted master there for about two seconds before it serves). The state is held, by leaving
   * the last slot unassigned, until this settles; the restart then waits for cluster_state:ok.
   * Without it the node keeps its cluster configuration and serves after redis-server's own delay.
   */
  readonly beforeServing?: () => Promise<void>;
}

export interface StartRedisClusterOptions {
  /** The redis-server binary; defaults to $REDIS_SERVER or `redis-server` on the PATH. */
  readonly binary?: string;
  /** How long to wait for the server and its cluster state, in ms. */
  readonly startTimeoutMs?: number;
}

const SLOT_COUNT = 16384;

export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const binary = options.binary ?? process.env.REDIS_SERVER ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  assertRedisServer(binary);

  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  let child: ChildProcess | undefined;
  let stopped = false;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    makeCertificate(cert, key);
    const ca = readFileSync(cert, 'utf8');
    const [port, busPort] = await freePorts(2);
    const nodesConf = join(dir, 'nodes.conf');

    const args = [
      '--bind',
      '127.0.0.1',
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-ca-cert-file',
      cert,
      '--tls-auth-clients',
      'no',
      '--tls-cluster',
      'yes',
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-announce-ip',
      '127.0.0.1',
      '--cluster-config-file',
      nodesConf,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];

    const launch = async (beforeServing?: () => Promise<void>): Promise<void> => {
      // Without its cluster configuration the node starts owning no slot, so the harness decides
      // when it serves.
      if (beforeServing) rmSync(nodesConf, { force: true });
      const { process: started, exited } = spawnServer(binary, args);
      child = started;
      await Promise.race([
        (async () => {
          if (beforeServing) {
            await waitForCluster(port, ca, startTimeoutMs, { slots: SLOT_COUNT - 1 });
            await beforeServing();
          }
          await waitForCluster(port, ca, startTimeoutMs);
        })(),
        exited.then((log) => {
          throw new Error(`redis-server exited during start-up:\n${log}`);
        }),
      ]);
    };

    const terminate = async (signal: NodeJS.Signals): Promise<void> => {
      const current = child;
      child = undefined;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
      current.kill(signal);
      const timer = setTimeout(() => current.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };

    await launch();

    return {
      host: '127.0.0.1',
      port,
      ca,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await terminate('SIGTERM');
        process.removeListener('exit', killOnExit);
        rmSync(dir, { recursive: true, force: true });
      },
      kill: () => terminate('SIGKILL'),
      restart: async (restartOptions = {}) => {
        if (stopped) throw new Error('the redis-server was stopped; start a new one');
        await terminate('SIGTERM');
        await launch(restartOptions.beforeServing);
      },
    };
  } catch (error) {
    child?.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function assertRedisServer(binary: string): void {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `redis-server is required for the serving tests but ${JSON.stringify(binary)} could not be run ` +
        `(${probe.error?.message ?? `exit ${probe.status}`}). Install it (apt-get install -y redis-server) ` +
        'or point $REDIS_SERVER at the binary.',
    );
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, trusted by passing it as the CA. */
export function makeCertificate(cert: string, key: string): void {
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(`openssl could not make a test certificate: ${result.error?.message ?? result.stderr}`);
  }
}

/** Ports the OS hands out as free, held open together so they are distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function spawnServer(binary: string, args: string[]): { process: ChildProcess; exited: Promise<string> } {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`exit ${code ?? signal}\n${log}`));
    child.once('error', (error) => resolve(`${error.message}\n${log}`));
  });
  return { process: child, exited };
}

/**
 * Waits until the node answers over TLS, owns every slot and reports cluster_state:ok. With `slots`
 * below the slot count it only assigns slots 0 to `slots - 1` and returns with cluster_state:fail.
 * The node's slots are always such a prefix: it starts with none or with all of them.
 */
async function waitForCluster(
  port: number,
  ca: string,
  timeoutMs: number,
  { slots = SLOT_COUNT } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const admin = new Redis({
      host: '127.0.0.1',
      port,
      tls: { ca },
      lazyConnect: true,
      connectTimeout: 1000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      for (;;) {
        const info = parseInfo(String(await admin.call('CLUSTER', 'INFO')));
        const assigned = Number(info.cluster_slots_assigned);
        if (slots < SLOT_COUNT && assigned === slots) return;
        if (info.cluster_state === 'ok') return;
        if (assigned < slots) {
          await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(assigned), String(slots - 1));
        }
        if (Date.now() > deadline) throw new Error(`cluster_state is ${info.cluster_state}`);
        await sleep(50);
      }
    } catch (error) {
      lastError = error;
      await sleep(50);
    } finally {
      admin.disconnect();
    }
  }
  throw new Error(
    `redis-server on port ${port} did not reach cluster_state:ok in ${timeoutMs} ms: ${lastError}`,
  );
}

function parseInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) info[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return info;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How a piece of work ended within a time limit: its value, its error, or still pending. */
export type Settled<T> =
  | { readonly outcome: 'value'; readonly value: T; readonly ms: number }
  | { readonly outcome: 'error'; readonly error: unknown; readonly ms: number }
  | { readonly outcome: 'pending'; readonly ms: number };

/**
 * Waits for `work` at most `limitMs`, so a test of a hang fails with what it saw instead of at the
 * jest timeout. Work still pending is abandoned, not cancelled.
 */
export async function settleWithin<T>(work: Promise<T>, limitMs: number): Promise<Settled<T>> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), limitMs);
  });
  try {
    return await Promise.race([
      work.then(
        (value) => ({ outcome: 'value' as const, value, ms: Date.now() - started }),
        (error: unknown) => ({ outcome: 'error' as const, error, ms: Date.now() - started }),
      ),
      limit.then(() => ({ outcome: 'pending' as const, ms: Date.now() - started })),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
