/**
 * `npm run bench:cache-load -- [--users N] [--rss-users N] [--items K] [--json]` (--help lists them
 * with their defaults): what the cache loader costs.
 *
 * 1. Throughput: users/s of the whole load (mocked S3 streaming a generated `recommendations.jsonl`
 *    from disk; validation, encoding, pipelined writes, marker, swap) against a local TLS cluster-mode
 *    redis-server, next to a raw pipelined SET loop of the same keys and values, prepared in memory
 *    beforehand, with the same client options, batch size and batches in flight. Each side runs twice,
 *    alternating, on an emptied server; the better run of each counts.
 * 2. Peak RSS of the streaming core (`writeUserLists`) fed a 1M-user file by a file stream, in a
 *    fresh node process running the loader bundled by esbuild as the Lambda runs it, so neither
 *    ts-node nor the bench's own data is counted. The peak is the kernel's max RSS of that process.
 * 3. The same for a whole load (`loadCache`) of that file as a member of a training job's
 *    `output.tar.gz`, served by a stand-in S3 client: gunzip and the tar reader stream a member far
 *    larger than the target, behind a consumer (the pipelined writes) slower than they are, and the
 *    popularity list comes last, so the first pass skips the whole large member.
 *
 * Each step shows its progress on stderr (scripts/support/progress.ts; --quiet: none), updated
 * between the timed runs, never inside one.
 */
import { spawn } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { join, relative } from 'node:path';
import { create as createTar } from 'tar';
import { Cli, EXIT, integer, runMain } from '../../scripts/support/cli';
// Loaded in main() only: the RSS child, this same file bundled, must not count it in its peak.
import type { Progress } from '../../scripts/support/progress';

const ROOT = join(__dirname, '..', '..');
const OUT_DIR = join(ROOT, '.bench', 'cache-load');

const TARGETS = { ratio: 0.5, peakRssMb: 256 };

interface Args {
  json: boolean;
  check: boolean;
  users: number;
  rssUsers: number;
  items: number;
  quiet: boolean;
}

function cacheLoadBenchCli(): Cli {
  return new Cli({
    name: 'bench:cache-load',
    usage: 'npm run bench:cache-load --',
    description:
      'What the cache loader costs: users/s of a whole load next to a raw pipelined SET loop of the same keys ' +
      'and values (local TLS cluster-mode redis-server), and the peak RSS of a 1M-user load in a fresh process.',
    notes: [
      `Targets: loader/raw >= ${TARGETS.ratio}x, peak RSS <= ${TARGETS.peakRssMb} MB.`,
      'Writes its work files under .bench/cache-load/ (the generated sets are removed at the end; the',
      "RSS child's bundle stays). Needs redis-server and openssl.",
    ].join('\n'),
    exitCodes: { 1: 'the bench failed, or (with --check) a target was missed' },
  })
    .flag('--json', 'print one JSON object instead of the table')
    .flag('--check', 'exit 1 when a target is missed')
    .option('--users <count>', 'users of the throughput load', integer(1, 100_000_000), 200_000)
    .option('--rss-users <count>', 'users of the peak-RSS loads', integer(1, 100_000_000), 1_000_000)
    .option('--items <count>', 'items per user', integer(1, 10_000), 10)
    .quietFlag();
}

const MODEL_VERSION = 'bench-job';
const VARIANT = 'champion';

const count = (n: number) => n.toLocaleString('en-US');

/** Writes a generated `recommendations.jsonl` chunk by chunk, waiting on the disk as it goes. */
async function writeSetFile(progress: Progress, path: string, users: number, items: number): Promise<void> {
  const { recommendationChunks } =
    await import('../../test/designs/artist-recommender/support/cache-loader-fixtures');
  const linesPerChunk = 500;
  await progress.track(
    `write a ${count(users)}-user set`,
    { total: users, unit: 'users' },
    async (stage) => {
      const out = createWriteStream(path);
      for (const chunk of recommendationChunks({
        modelVersion: MODEL_VERSION,
        users,
        itemPrefix: 'a',
        itemsPerUser: items,
        linesPerChunk,
      })) {
        if (!out.write(chunk)) await once(out, 'drain');
        stage.set(Math.min(users, stage.count + linesPerChunk));
      }
      out.end();
      await once(out, 'finish');
      return out.bytesWritten;
    },
    (bytes) => `${count(users)} users, ${(bytes / 1e6).toFixed(1)} MB`,
  );
}

async function throughput(args: Args, setFile: string, progress: Progress) {
  const { startRedisCluster } = await import('../../test/support/redis-cluster');
  const { popularityObject } =
    await import('../../test/designs/artist-recommender/support/cache-loader-fixtures');
  const { createCacheClient } = await import('../../lambda/platform/shared/cache-client');
  const { readLoaderConfig } = await import('../../lambda/artist-recommender/cache-loader/config');
  const { loadCache } = await import('../../lambda/artist-recommender/cache-loader/load');
  const { parseUserLine } = await import('../../lambda/artist-recommender/cache-loader/validate');
  const { encodeList, userKey } = await import('../../lambda/artist-recommender/shared/cache-layout');
  const { PipelinedWriter } = await import('../../lambda/artist-recommender/cache-loader/writer');
  const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const { mockClient } = await import('aws-sdk-client-mock');

  const redis = await progress.track(
    'redis-server (TLS cluster)',
    {},
    () => startRedisCluster(),
    (r) => `${r.host}:${r.port}`,
  );
  const config = readLoaderConfig({ CACHE_HOST: redis.host, CACHE_PORT: String(redis.port) });
  const client = createCacheClient({
    host: config.cacheHost,
    port: config.cachePort,
    ca: redis.ca,
    connectTimeoutMs: config.cacheConnectTimeoutMs,
    commandTimeoutMs: config.cacheCommandTimeoutMs,
  });
  client.on('error', () => undefined);
  const s3Mock = mockClient(S3Client);
  try {
    await client.connect();
    const s3 = new S3Client({ region: 'us-east-1' });
    s3Mock
      .on(GetObjectCommand, { Key: 'recommendations.jsonl' })
      .callsFake(
        () => ({ Body: createReadStream(setFile, { highWaterMark: 64 * 1024 }), ETag: '"bench"' }) as never,
      );
    s3Mock
      .on(GetObjectCommand, { Key: 'popularity.json' })
      .callsFake(() => popularityObject({ modelVersion: MODEL_VERSION, itemPrefix: 'a' }, '"pop"') as never);

    // The raw side's payloads: the loader's exact keys and values, built before the clock starts.
    const version = 'raw';
    const payloads: [string, string][] = [];
    await progress.track(
      'raw SET payloads, in memory',
      { total: args.users, unit: 'users' },
      (stage) => {
        for (const line of readFileSync(setFile, 'utf8').split('\n')) {
          if (!line) continue;
          const parsed = parseUserLine(line, MODEL_VERSION);
          if (!parsed.ok) throw new Error(parsed.reason);
          payloads.push([userKey(version, VARIANT, parsed.value.userId), encodeList(parsed.value.list)]);
          stage.add();
        }
      },
      () => `${count(payloads.length)} users`,
    );

    const flush = () => Promise.all(client.nodes('master').map((node) => node.flushall()));
    const runLoader = async () => {
      await flush();
      const started = process.hrtime.bigint();
      const summary = await loadCache(
        {
          bucket: 'bench',
          recommendationsKey: 'recommendations.jsonl',
          popularityKey: 'popularity.json',
          variant: VARIANT,
        },
        { client, s3, settings: config.settings },
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (summary.users !== args.users || !summary.swapped) throw new Error('the load did not complete');
      return args.users / seconds;
    };
    const runRaw = async () => {
      await flush();
      const started = process.hrtime.bigint();
      const writer = new PipelinedWriter(client, config.settings);
      for (const [key, value] of payloads) await writer.set(key, value);
      await writer.close();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return payloads.length / seconds;
    };
    const loader: number[] = [];
    const raw: number[] = [];
    const ROUNDS = 2;
    await progress.track(
      `throughput, loader and raw SET, ${count(args.users)} users each`,
      { total: 2 * ROUNDS, unit: 'runs', rate: false, redrawOnUpdate: true },
      async (stage) => {
        for (let round = 0; round < ROUNDS; round++) {
          loader.push(await runLoader());
          stage.add();
          raw.push(await runRaw());
          stage.add();
        }
      },
      () =>
        `loader ${count(Math.round(Math.max(...loader)))} users/s, raw ${count(Math.round(Math.max(...raw)))} users/s`,
    );
    await flush();
    return { loaderUsersPerS: Math.max(...loader), rawUsersPerS: Math.max(...raw), config, redis };
  } finally {
    s3Mock.restore();
    client.disconnect();
  }
}

/**
 * The child: the streaming core over a file (`plain`), or a whole load out of an archive (`archive`),
 * reporting its own peak RSS.
 */
async function rssChild(mode: string, input: string, host: string, port: number, caFile: string) {
  const { createCacheClient } = await import('../../lambda/platform/shared/cache-client');
  const { readLoaderConfig } = await import('../../lambda/artist-recommender/cache-loader/config');
  const { loadCache, writeUserLists } = await import('../../lambda/artist-recommender/cache-loader/load');
  const config = readLoaderConfig({ CACHE_HOST: host, CACHE_PORT: String(port) });
  const client = createCacheClient({
    host,
    port,
    ca: readFileSync(caFile, 'utf8'),
    connectTimeoutMs: config.cacheConnectTimeoutMs,
    commandTimeoutMs: config.cacheCommandTimeoutMs,
  });
  client.on('error', () => undefined);
  await client.connect();
  const started = process.hrtime.bigint();
  const result =
    mode === 'archive'
      ? await loadCache(
          {
            bucket: 'bench',
            archiveKey: 'output.tar.gz',
            recommendationsMember: 'recommendations.jsonl',
            popularityMember: 'popularity.json',
            variant: VARIANT,
            version: 'rss-archive',
          },
          {
            client,
            // Only GetObject is sent; every read gets the archive, as S3 streams it.
            s3: {
              send: () =>
                Promise.resolve({
                  Body: createReadStream(input, { highWaterMark: 64 * 1024 }),
                  ETag: '"rss"',
                }),
            } as never,
            settings: config.settings,
          },
        )
      : await writeUserLists(
          client,
          createReadStream(input, { highWaterMark: 64 * 1024 }),
          { version: 'rss', variant: VARIANT, modelVersion: MODEL_VERSION },
          config.settings,
        );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  client.disconnect();
  // ru_maxrss is in kilobytes on Linux.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ users: result.users, badLines: result.badLines, seconds, peakRssMb })}\n`,
  );
}

async function peakRss(args: Args, redis: { host: string; port: number; ca: string }, progress: Progress) {
  const { popularityJson } =
    await import('../../test/designs/artist-recommender/support/cache-loader-fixtures');
  const esbuild = await import('esbuild');
  const bundle = join(OUT_DIR, 'rss-child.js');
  await progress.track(
    'RSS child bundle (esbuild)',
    {},
    () =>
      esbuild.build({
        entryPoints: [__filename],
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        outfile: bundle,
        // The bench's own imports that the child never runs stay out of the bundle.
        external: ['esbuild', 'aws-sdk-client-mock', '@aws-sdk/client-s3'],
        logLevel: 'error',
      }),
    () => relative(process.cwd(), bundle),
  );
  const archiveDir = join(OUT_DIR, `rss-${args.rssUsers}`);
  mkdirSync(archiveDir, { recursive: true });
  const setFile = join(archiveDir, 'recommendations.jsonl');
  await writeSetFile(progress, setFile, args.rssUsers, args.items);
  writeFileSync(
    join(archiveDir, 'popularity.json'),
    popularityJson({ modelVersion: MODEL_VERSION, itemPrefix: 'a' }),
  );
  const archive = join(OUT_DIR, `rss-${args.rssUsers}.tar.gz`);
  // Level 1 keeps the bench quick; reading costs about the same at any level.
  await progress.track(
    'output.tar.gz of that set',
    {},
    () =>
      createTar({ file: archive, cwd: archiveDir, gzip: { level: 1 } }, [
        'recommendations.jsonl',
        'popularity.json',
      ]),
    () => `${(statSync(archive).size / 1e6).toFixed(1)} MB`,
  );
  const caFile = join(OUT_DIR, 'ca.pem');
  writeFileSync(caFile, redis.ca);
  // A child process of its own, run asynchronously so the progress display keeps its time.
  const measure = (label: string, mode: string, input: string) =>
    progress.track(
      label,
      {},
      async () => {
        const child = spawn(
          process.execPath,
          [bundle, '--rss-child', mode, input, redis.host, String(redis.port), caFile],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
        child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
        const [code] = (await once(child, 'close')) as [number | null];
        if (code !== 0) throw new Error(`the RSS child failed:\n${stderr}`);
        const line = stdout.trim().split('\n').pop() ?? '';
        const measured = JSON.parse(line) as {
          users: number;
          badLines: number;
          seconds: number;
          peakRssMb: number;
        };
        if (measured.users !== args.rssUsers) throw new Error(`the RSS child wrote ${measured.users} users`);
        return measured;
      },
      (measured) => `${count(measured.users)} users, peak RSS ${measured.peakRssMb.toFixed(1)} MB`,
    );
  try {
    return {
      plain: await measure('peak RSS, streaming core', 'plain', setFile),
      archive: await measure('peak RSS, whole load from output.tar.gz', 'archive', archive),
    };
  } finally {
    rmSync(archiveDir, { recursive: true, force: true });
    rmSync(archive, { force: true });
    rmSync(caFile, { force: true });
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // The bench's own child process (see peakRss), not a user's command line.
  if (argv[0] === '--rss-child') {
    await rssChild(argv[1], argv[2], argv[3], Number(argv[4]), argv[5]);
    return EXIT.ok;
  }
  const args = cacheLoadBenchCli().parse<Args>(argv);
  const { Progress } = await import('../../scripts/support/progress');
  const progress = new Progress({ quiet: args.quiet });
  mkdirSync(OUT_DIR, { recursive: true });
  const setFile = join(OUT_DIR, `set-${args.users}.jsonl`);
  await writeSetFile(progress, setFile, args.users, args.items);
  let stopRedis: (() => Promise<void>) | undefined;
  try {
    const measured = await throughput(args, setFile, progress);
    stopRedis = measured.redis.stop;
    const rss = await peakRss(args, measured.redis, progress);
    const ratio = measured.loaderUsersPerS / measured.rawUsersPerS;
    const result = {
      users: args.users,
      itemsPerUser: args.items,
      batchSize: measured.config.settings.batchSize,
      maxInFlight: measured.config.settings.maxInFlight,
      loaderUsersPerS: Math.round(measured.loaderUsersPerS),
      rawUsersPerS: Math.round(measured.rawUsersPerS),
      ratio: Number(ratio.toFixed(3)),
      ratioTarget: TARGETS.ratio,
      ratioPass: ratio >= TARGETS.ratio,
      rssUsers: args.rssUsers,
      rssLoadSeconds: Number(rss.plain.seconds.toFixed(1)),
      peakRssMb: Number(rss.plain.peakRssMb.toFixed(1)),
      archiveLoadSeconds: Number(rss.archive.seconds.toFixed(1)),
      archivePeakRssMb: Number(rss.archive.peakRssMb.toFixed(1)),
      peakRssTargetMb: TARGETS.peakRssMb,
      peakRssPass: rss.plain.peakRssMb <= TARGETS.peakRssMb && rss.archive.peakRssMb <= TARGETS.peakRssMb,
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const rows: [string, string, string, string][] = [
        ['metric', 'value', 'target', 'result'],
        [`loader users/s (${args.users} users)`, String(result.loaderUsersPerS), '', ''],
        ['raw pipelined SET users/s', String(result.rawUsersPerS), '', ''],
        ['loader / raw', result.ratio.toFixed(2), `>= ${TARGETS.ratio}`, result.ratioPass ? 'pass' : 'FAIL'],
        [
          `peak RSS, ${args.rssUsers} users (MB)`,
          result.peakRssMb.toFixed(1),
          `<= ${TARGETS.peakRssMb}`,
          result.peakRssMb <= TARGETS.peakRssMb ? 'pass' : 'FAIL',
        ],
        [
          `peak RSS, ${args.rssUsers} users from output.tar.gz (MB)`,
          result.archivePeakRssMb.toFixed(1),
          `<= ${TARGETS.peakRssMb}`,
          result.archivePeakRssMb <= TARGETS.peakRssMb ? 'pass' : 'FAIL',
        ],
      ];
      const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
      for (const row of rows) {
        process.stdout.write(
          `${row
            .map((cell, column) => cell.padEnd(widths[column]))
            .join('  ')
            .trimEnd()}\n`,
        );
      }
      process.stdout.write(
        `(${args.items} items per user, batch ${result.batchSize}, ${result.maxInFlight} batches in flight; ` +
          `the 1M-user core load took ${result.rssLoadSeconds} s, the load from the archive ` +
          `${result.archiveLoadSeconds} s)\n`,
      );
    }
    const wrote = `wrote ${relative(process.cwd(), join(OUT_DIR, 'rss-child.js'))} (the loader bundle the RSS child runs)`;
    if (args.json) process.stderr.write(`${wrote}\n`);
    else process.stdout.write(`${wrote}\n`);
    return !args.check || (result.ratioPass && result.peakRssPass) ? EXIT.ok : EXIT.failed;
  } finally {
    await stopRedis?.();
    rmSync(setFile, { force: true });
  }
}

runMain('bench:cache-load', main);
