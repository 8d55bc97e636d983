/**
 * A throwaway PostgreSQL server on loopback for the data pipeline tests, the ETL benchmark and local
 * runs: initdb in a temp directory, a free port, fsync off, stopped (and its files removed) by
 * `stop()`. As root, the server runs as the `postgres` user (initdb refuses root).
 *
 * Missing binaries are an error, never a skip: a test that silently skips proves nothing. Set
 * PG_BINDIR to choose the installation; otherwise `pg_config --bindir`, then the newest
 * /usr/lib/postgresql/<version>/bin.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientConfig } from 'pg';

export interface LocalPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly bindir: string;
  /** Connection settings for a database (default `postgres`) as the superuser. */
  config(database?: string): ClientConfig;
  /** Creates an empty database and returns its settings. */
  createDatabase(name: string): Promise<ClientConfig>;
  /** The environment a handler reads (PGHOST, PGPORT, ...), for a database. */
  env(database?: string): Record<string, string>;
  /** Stops the server and removes its files. Safe to call more than once. */
  stop(): void;
}

export function findPostgresBindir(): string {
  const candidates: string[] = [];
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR);
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) {
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) not found in ${JSON.stringify(candidates)}; ` +
        'install them (apt-get install -y postgresql) or set PG_BINDIR',
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function run(command: string, args: string[], asPostgres: boolean): string {
  const [bin, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const result = spawnSync(bin, argv, { encoding: 'utf8', cwd: '/' });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}

export async function startPostgres(): Promise<LocalPostgres> {
  const bindir = findPostgresBindir();
  const asPostgres = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
  if (asPostgres) {
    const uid = Number(run('id', ['-u', 'postgres'], false));
    const gid = Number(run('id', ['-g', 'postgres'], false));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const pgCtl = join(bindir, 'pg_ctl');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(asPostgres ? 'runuser' : pgCtl, [
      ...(asPostgres ? ['-u', 'postgres', '--', pgCtl] : []),
      '-D',
      data,
      '-m',
      'immediate',
      '-w',
      'stop',
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);

  try {
    run(
      join(bindir, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      asPostgres,
    );
    const port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=50',
    ].join(' ');
    run(
      pgCtl,
      ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start'],
      asPostgres,
    );

    const config = (database = 'postgres'): ClientConfig => ({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database,
    });
    return {
      host: '127.0.0.1',
      port,
      bindir,
      config,
      env: (database = 'postgres') => ({
        PGHOST: '127.0.0.1',
        PGPORT: String(port),
        PGUSER: 'postgres',
        PGDATABASE: database,
        PGPASSWORD: '',
      }),
      createDatabase: async (name) => {
        const client = new Client(config());
        await client.connect();
        try {
          await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
        } finally {
          await client.end();
        }
        return config(name);
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}
