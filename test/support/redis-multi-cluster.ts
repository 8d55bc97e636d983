/**
 * Several redis-servers forming one TLS cluster on loopback, the slots split evenly between them:
 * what a multi-shard ElastiCache cluster looks like to a client. `redis-cluster.ts` starts a single
 * node owning every slot, where a pipeline that mixes nodes or a SCAN of only one node would go
 * unnoticed; this one exists to catch that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'iovalkey';
import { freePorts, makeCertificate, sleep } from './redis-cluster';

export interface LocalMultiNodeCluster {
  readonly host: '127.0.0.1';
  /** The first node's TLS port; a cluster client discovers the others from it. */
  readonly port: number;
  readonly ports: readonly number[];
  readonly ca: string;
  stop(): Promise<void>;
}

const SLOT_COUNT = 16384;

export async function startMultiNodeCluster(nodes = 3, timeoutMs = 20_000): Promise<LocalMultiNodeCluster> {
  const binary = process.env.REDIS_SERVER ?? 'redis-server';
  const dir = mkdtempSync(join(tmpdir(), 'redis-multi-'));
  const children: ChildProcess[] = [];
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);
  const admins: Redis[] = [];
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    // One certificate for every node: the nodes verify each other on the TLS cluster bus.
    makeCertificate(cert, key);
    const ca = readFileSync(cert, 'utf8');
    const ports = await freePorts(nodes * 2);
    const tlsPorts = ports.slice(0, nodes);
    const busPorts = ports.slice(nodes);

    for (let i = 0; i < nodes; i++) {
      const nodeDir = join(dir, `node-${i}`);
      mkdirSync(nodeDir);
      const child = spawn(
        binary,
        [
          '--bind',
          '127.0.0.1',
          '--port',
          '0',
          '--tls-port',
          String(tlsPorts[i]),
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
          String(busPorts[i]),
          '--cluster-announce-ip',
          '127.0.0.1',
          '--cluster-config-file',
          join(nodeDir, 'nodes.conf'),
          '--dir',
          nodeDir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--loglevel',
          'warning',
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
    }

    const deadline = Date.now() + timeoutMs;
    for (const port of tlsPorts) admins.push(await connectNode(port, ca, deadline));
    const share = Math.ceil(SLOT_COUNT / nodes);
    for (let i = 0; i < nodes; i++) {
      const last = Math.min(SLOT_COUNT, (i + 1) * share) - 1;
      await admins[i].call('CLUSTER', 'ADDSLOTSRANGE', String(i * share), String(last));
    }
    for (let i = 1; i < nodes; i++) {
      await admins[0].call('CLUSTER', 'MEET', '127.0.0.1', String(tlsPorts[i]), String(busPorts[i]));
    }
    for (const admin of admins) {
      for (;;) {
        const info = String(await admin.call('CLUSTER', 'INFO'));
        if (info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${nodes}`)) break;
        if (Date.now() > deadline) throw new Error(`the cluster did not form in ${timeoutMs} ms:\n${info}`);
        await sleep(100);
      }
    }
    admins.forEach((admin) => admin.disconnect());

    let stopped = false;
    return {
      host: '127.0.0.1',
      port: tlsPorts[0],
      ports: tlsPorts,
      ca,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await Promise.all(
          children.map(
            (child) =>
              new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once('exit', () => resolve());
                child.kill('SIGKILL');
              }),
          ),
        );
        process.removeListener('exit', killAll);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    admins.forEach((admin) => admin.disconnect());
    killAll();
    process.removeListener('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function connectNode(port: number, ca: string, deadline: number): Promise<Redis> {
  for (;;) {
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
      return admin;
    } catch (error) {
      admin.disconnect();
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}
