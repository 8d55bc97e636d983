/**
 * `npm run e2e:local`: the whole path on this machine, through the code the cloud runs:
 * generated events -> PostgreSQL (accounts import, event transform, features, snapshot) -> training
 * (the SageMaker entry point, run locally) -> cache load (TLS cluster-mode redis-server) -> the
 * serving handler answers from the cache. The snapshot's Feature Store records go through the
 * ingest's parser (the PutRecord call itself needs AWS).
 *
 *   npm run e2e:local -- [--users 2000] [--days 7] [--seed 1] [--k 5] [--work DIR] [--keep] [--quiet]
 *
 * While it runs, each stage shows its progress on stderr (scripts/support/progress.ts: a bar on a
 * terminal, its line with counts and time when it ends; nothing with --quiet). On stdout it prints
 * each stage's counts and wall time as a table and ends with the answer line; exits 0 when
 * the answer came from the cache (`source: cache`) with items and every line of input was accounted
 * for (input = clean + duplicates + quarantined), 1 otherwise, 2 on bad usage. Servers are
 * stopped at the end and on errors; the work directory (a temp one unless --work) is removed unless
 * --keep. Needs PostgreSQL server binaries, redis-server and sagemaker/bin/py (torch) locally.
 */
import type { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  createReadStream,
  createWriteStream,
  type ReadStream,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Client } from 'pg';
import { lastLine, runCommand } from '../support/child-process';
import { Cli, EXIT, UsageError, integer, oneOf, runMain } from '../support/cli';
import { chooseFeatureEngine, type FeatureEngine } from '../../lib/platform/config/feature-engine';
import { artistRecommender } from '../../lib/designs/artist-recommender/design';
import { Progress } from '../support/progress';
import { runStages, withWorkOptions } from '../support/stage-run';
import { formatTable, type StageRow } from '../support/stage-table';

// Powertools reads its environment when the handler modules load: set before they are imported.
process.env.POWERTOOLS_SERVICE_NAME ??= 'recommendations';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'ArtistRecommender';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_REGION ??= 'us-east-1';

const ROOT = join(__dirname, '..', '..');
const SQL = join(ROOT, 'sql', 'artist-recommender');
const VARIANT = 'champion';
/** The engine the design's requirements choose, as its ETL stack does. */
const DESIGN_ENGINE = chooseFeatureEngine({
  dailyActiveUsers: artistRecommender.requirements.dailyActiveUsers,
  eventsPerUserPerDay: artistRecommender.data.eventsPerUserPerDay,
  historyDays: artistRecommender.data.historyDays,
}).engine;

export interface E2eOptions {
  users: number;
  days: number;
  seed: number;
  /** k-anonymity of the features and the snapshot. */
  k: number;
  /** Seconds of the training job's hyperparameter search; 0 trains the defaults. */
  tuneBudget: number;
  /** Where the event features are built: the design's choice from its requirements, or forced. */
  engine: FeatureEngine;
  work?: string;
  keep: boolean;
  /** No progress on stderr. */
  quiet: boolean;
}

export { UsageError };

/** The command line of `npm run e2e:local`. */
export function e2eCli(): Cli {
  return withWorkOptions(
    new Cli({
      name: 'e2e:local',
      usage: 'npm run e2e:local --',
      description:
        'The whole path on this machine, through the code the cloud runs: generated events -> PostgreSQL -> ' +
        'features -> snapshot -> local training -> cache load -> the serving handler answers from the cache.',
      notes: [
        "Prints each stage's counts and wall time, and ends with the answer line. Needs PostgreSQL server",
        'binaries, redis-server and sagemaker/bin/py (torch) on this machine; no AWS account.',
        'The work directory holds the generated data, the snapshot and the training output.',
      ].join('\n'),
      exitCodes: { 1: 'the answer did not come from the cache, a count did not add up, or a stage failed' },
    })
      .option('--users <count>', 'users to generate', integer(20, 1_000_000), 2000)
      .option('--days <count>', 'days of events (the last fifth validate the model)', integer(2, 365), 7)
      .option('--seed <n>', 'seed of the generated data', integer(0, 2 ** 31), 1)
      .option('--k <n>', 'k-anonymity of the features and the snapshot', integer(1, 1000), 5)
      .option(
        '--tune-budget <seconds>',
        "the training job's hyperparameter search budget (its --tune-budget-seconds; 0 = no search)",
        integer(0, 86_400),
        300,
      )
      .option(
        '--engine <engine>',
        'where the event features are built: lake (DuckDB, the same SQL as Athena) or postgres',
        oneOf(['lake', 'postgres'] as const),
        DESIGN_ENGINE,
      ),
  );
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseE2eArgs(argv: readonly string[]): E2eOptions {
  const values = e2eCli().parse<{
    users: number;
    days: number;
    seed: number;
    k: number;
    tuneBudget: number;
    engine: FeatureEngine;
    work?: string;
    keep?: boolean;
    quiet: boolean;
  }>(argv);
  return {
    users: values.users,
    days: values.days,
    seed: values.seed,
    k: values.k,
    tuneBudget: values.tuneBudget,
    engine: values.engine,
    work: values.work,
    keep: values.keep ?? false,
    quiet: values.quiet,
  };
}

export { formatTable, type StageRow };

/**
 * An S3 client that serves GetObject from local files (key = path under `root`): the cache loader
 * then runs its own download, version and swap code on the training job's local output. `opened`
 * sees each stream, so a progress display can read how far it got.
 */
function localS3(root: string, opened: (key: string, body: ReadStream) => void = () => undefined): S3Client {
  return {
    send: async (command: GetObjectCommand) => {
      const key = command.input.Key ?? '';
      const path = join(root, key);
      const stat = statSync(path);
      const body = createReadStream(path);
      opened(key, body);
      return { Body: body, ETag: `"${stat.size}-${Math.round(stat.mtimeMs)}"` };
    },
  } as unknown as S3Client;
}

const count = (n: number) => n.toLocaleString('en-US');

export interface E2eResult {
  ok: boolean;
  rows: StageRow[];
  answer?: { statusCode: number; body: Record<string, unknown> };
}

export async function runE2e(
  options: E2eOptions,
  print: (line: string) => void = console.log,
  progress: Progress = new Progress({ quiet: options.quiet }),
): Promise<E2eResult> {
  const { generateData, maxFiles, rawKeys } = await import('./generate-data');
  const { startPostgres } = await import('../../test/support/postgres');
  const { startRedisCluster } = await import('../../test/support/redis-cluster');
  const { servingEnv } = await import('../../test/designs/artist-recommender/support/serving-fixtures');
  const { migrate, readMigrations } = await import('../../lambda/platform/db-migrate/migrate');
  const { DEFAULT_IMPORT_OPTIONS, importAccounts } =
    await import('../../lambda/artist-recommender/accounts-import/import');
  const { transformObject } = await import('../../lambda/artist-recommender/event-transform/transform');
  const { buildFeatures } = await import('../../lambda/artist-recommender/features/build');
  const { exportSnapshot, FEATURES_FILE, SNAPSHOT_FILES } =
    await import('../../lambda/artist-recommender/snapshot/export');
  const { ingestLines } = await import('../../lambda/artist-recommender/feature-store-ingest/ingest');
  const { splitLines } = await import('../../lambda/artist-recommender/event-transform/lines');
  const { loadCache } = await import('../../lambda/artist-recommender/cache-loader/load');
  const { readLoaderConfig } = await import('../../lambda/artist-recommender/cache-loader/config');
  const { createCacheClient } = await import('../../lambda/platform/shared/cache-client');
  const { readServingConfig } = await import('../../lambda/artist-recommender/recommendations/config');
  const { createHandler } = await import('../../lambda/artist-recommender/recommendations/handler');
  const { connectWithRetry } = await import('../../lambda/platform/shared-db/connection');
  const { ACCOUNT_FEATURE_FILES } = await import('../../lambda/artist-recommender/features/build');
  const { profilesCsv } = await import('../../lambda/artist-recommender/features/profiles');
  const { LocalLake, outputLines } = await import('../../lambda/artist-recommender/lake/duckdb');
  const { LAKE_OUTPUTS } = await import('../../lambda/artist-recommender/lake/queries');
  const { stageEvents } = await import('../../lambda/artist-recommender/event-transform/stage');
  const { dayOf } = await import('../../lambda/artist-recommender/event-transform/handler');
  const { exportLakeSnapshot } = await import('../../lambda/artist-recommender/snapshot/lake-export');
  const { pipeline } = await import('node:stream/promises');

  return runStages(options, print, progress, async ({ work, rows, stage, onCleanup }) => {
    const data = join(work, 'data');
    const summary = await stage(
      'generate',
      async (shown) => {
        const s = generateData({
          users: options.users,
          days: options.days,
          out: data,
          seed: options.seed,
          onWrite: () => shown.add(),
        });
        return {
          value: s,
          counts: `${count(s.accounts)} accounts, ${count(s.files)} objects, ${count(s.lines)} lines`,
        };
      },
      { total: maxFiles(options.days), unit: 'files' },
    );
    const end = Date.parse(summary.end);
    // Events after this instant are the validation window: the last fifth of the days, at least one.
    const cutoff = new Date(end - Math.max(1, Math.round(options.days / 5)) * 86_400_000);
    const now = end + 3_600_000;

    const db = await stage('postgres', async () => {
      const pg = await startPostgres();
      onCleanup(() => pg.stop());
      const client = await connectWithRetry(await pg.createDatabase('e2e'));
      onCleanup(() => client.end().catch(() => undefined));
      const applied = await migrate(client, readMigrations(join(SQL, 'migrations')));
      return {
        value: client as Client,
        counts: `port ${pg.port}, ${applied.applied.length} migrations applied (schema ${applied.current})`,
      };
    });

    await stage('accounts import', async () => {
      const result = await importAccounts(db, createReadStream(join(data, 'accounts.csv')), {
        ...DEFAULT_IMPORT_OPTIONS,
        now,
      });
      return {
        value: result,
        counts: `${count(result.rows)} rows, ${count(result.upserted)} upserted, ${count(result.badLines)} bad`,
      };
    });

    const keys = rawKeys(data);
    const t = {
      objects: 0,
      input: 0,
      clean: 0,
      duplicates: 0,
      quarantined: 0,
      loaded: 0,
      loadedServedItems: 0,
      loadedFeedback: 0,
    };
    const onLake = options.engine === 'lake';
    // The lake's local engine: staged lines, Parquet tables, outputs under the work directory.
    const lake = onLake ? await LocalLake.open(join(work, 'lake'), join(SQL, 'lake')) : undefined;
    if (lake) onCleanup(() => lake.close());
    const stagedDays = new Set<string>();
    const totals = await stage(
      onLake ? 'transform + stage' : 'transform + load',
      async (shown) => {
        for (const key of keys) {
          const day = dayOf({}, key);
          const { counts, quarantine } = await transformObject(
            createReadStream(join(data, key)),
            lake
              ? (events, sourceKey) =>
                  stageEvents(events, sourceKey, async (table, body) => {
                    // Where the function puts it in S3 (staging/<table>/day=<day>/), in the lake's folder.
                    const dir = lake.stagingDir(day, table);
                    mkdirSync(dir, { recursive: true });
                    writeFileSync(join(dir, `${key.replace(/\//g, '_')}.json.gz`), body);
                    stagedDays.add(day);
                  })
              : db,
            `file://${key}`,
            {
              now,
              maxLineBytes: 65_536,
              maxAgeMs: 365 * 86_400_000,
              maxFutureSkewMs: 300_000,
            },
          );
          if (counts.quarantined > 0) {
            // Where the Lambda puts it in S3, under the work directory instead.
            const path = join(work, 'quarantine', `${key.replace(/^raw\//, '')}.quarantine.jsonl.gz`);
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, quarantine);
          }
          t.objects++;
          t.input += counts.input;
          t.clean += counts.clean;
          t.duplicates += counts.duplicates;
          t.quarantined += counts.quarantined;
          t.loaded += counts.loaded;
          t.loadedServedItems += counts.loadedServedItems;
          t.loadedFeedback += counts.loadedFeedback;
          shown.add();
        }
        return {
          value: t,
          counts:
            `${count(t.objects)} objects: input ${count(t.input)} = clean ${count(t.clean)} + duplicates ` +
            `${count(t.duplicates)} + quarantined ${count(t.quarantined)}; ${onLake ? 'staged' : 'loaded'} ` +
            `${count(t.loaded)} (${count(t.loadedServedItems)} served items, ${count(t.loadedFeedback)} feedback)`,
        };
      },
      {
        total: keys.length,
        unit: 'objects',
        detail: () => `${count(t.loaded)} events ${onLake ? 'staged' : 'loaded'}`,
      },
    );
    if (lake) {
      // The ETL's LoadLake step: the load queries add each staged day's new keys to the tables.
      totals.loaded = await stage('lake load', async () => {
        const added = { events: 0, served_items: 0, feedback: 0 };
        for (const day of [...stagedDays].sort()) {
          const rows = await lake.load(day);
          for (const table of Object.keys(added) as (keyof typeof added)[]) added[table] += rows[table];
        }
        const [stored] = await lake.select(
          `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM feedback)
                  + (SELECT count(DISTINCT request_id) FROM served_items) AS n`,
        );
        return {
          value: Number(stored.n),
          counts: `${count(stagedDays.size)} days: ${count(added.events)} events, ${count(added.served_items)} served items, ${count(added.feedback)} feedback`,
        };
      });
    }
    const conserved = totals.input === totals.clean + totals.duplicates + totals.quarantined;
    const complete = totals.input === summary.lines && totals.loaded === summary.events;
    print(
      `conservation: input ${totals.input} = clean ${totals.clean} + duplicates ${totals.duplicates} + ` +
        `quarantined ${totals.quarantined}: ${conserved ? 'ok' : 'BROKEN'}; generated lines ${summary.lines}, ` +
        `events ${summary.events}, loaded ${totals.loaded}: ${complete ? 'ok' : 'MISMATCH'}`,
    );

    // On PostgreSQL the features' as-of is the snapshot's cutoff: the served model trains on what came
    // before. The lake path runs as the ETL does: features, labels and snapshot as of the data's end.
    const featureParams = { asOf: lake ? new Date(end) : cutoff, k: options.k, halfLifeDays: 14 };
    await stage('features', async () => {
      const run = await buildFeatures(
        db,
        join(SQL, 'features'),
        featureParams,
        lake ? ACCOUNT_FEATURE_FILES : undefined,
      );
      if (lake) {
        // The features function's export: the k-anonymous profiles, for the lake's user_features join.
        mkdirSync(lake.profilesDir, { recursive: true });
        await pipeline(profilesCsv(db), createWriteStream(join(lake.profilesDir, 'profiles.csv')));
      }
      return {
        value: run,
        counts: Object.entries(run.rows)
          .map(([table, n]) => `${table.replace(/^feature_(user_)?/, '')} ${count(n)}`)
          .join(', '),
      };
    });

    const outputsDir = join(work, 'lake-outputs');
    if (lake) {
      // The ETL's LakeOutputs step: every output query, written as UNLOAD writes it.
      await stage('lake queries', async () => {
        const rows: Record<string, number> = {};
        for (const output of LAKE_OUTPUTS) {
          rows[output] = await lake.unload(output, { ...featureParams, cutoff }, join(outputsDir, output));
        }
        return {
          value: rows,
          counts: Object.entries(rows)
            .map(([output, n]) => `${output.split('/')[1]} ${count(n)}`)
            .join(', '),
        };
      });
    }

    const snapshotDir = join(work, 'snapshot');
    const manifest = await stage('snapshot', async () => {
      const m = lake
        ? await exportLakeSnapshot(db, (output) => outputLines(join(outputsDir, output)), snapshotDir, {
            cutoff,
            asOf: new Date(end),
            k: options.k,
          })
        : await exportSnapshot(db, snapshotDir, { cutoff, k: options.k });
      const rowsOf = (file: string) => count(m.files[file].rows);
      return {
        value: m,
        counts:
          `cutoff ${m.cutoff.slice(0, 10)}: train ${rowsOf(SNAPSHOT_FILES.train)}, validation ` +
          `${rowsOf(SNAPSHOT_FILES.validation)}, users ${rowsOf(SNAPSHOT_FILES.users)}, features ` +
          `${rowsOf(FEATURES_FILE)}, feedback ${rowsOf(SNAPSHOT_FILES.trainFeedback)} + ` +
          `${rowsOf(SNAPSHOT_FILES.validationFeedback)} (unmatched: ` +
          `${Object.entries(m.unmatchedFeedback)
            .map(([reason, n]) => `${reason} ${count(n)}`)
            .join(', ')})`,
      };
    });

    // The Feature Store ingest's parsing and batching over the snapshot's records, with the
    // PutRecord call replaced by a count: every line must be a valid record.
    const featureRecords = await stage('feature records', async () => {
      const result = await ingestLines(
        splitLines(createReadStream(join(snapshotDir, FEATURES_FILE))),
        async () => undefined,
        { concurrency: 16, maxSamples: 5 },
      );
      return {
        value: result,
        counts: `${count(result.records)} records ready for PutRecord, ${count(result.badLines)} bad`,
      };
    });

    const trainWork = join(work, 'train');
    const output = join(trainWork, 'output', 'data');
    // The trainer's own progress lines (common/progress.py) go in the bar: the last one so far.
    let trainerSays = '';
    await stage(
      'train (local)',
      async () => {
        const { code, output: log } = await runCommand(
          join(ROOT, 'sagemaker', 'bin', 'py'),
          [
            '-m',
            'artist_recommender.local_train',
            '--train',
            join(snapshotDir, 'train'),
            '--validation',
            join(snapshotDir, 'validation'),
            '--work',
            trainWork,
            '--job-name',
            `e2e-local-${options.seed}`,
            '--',
            ...(options.tuneBudget > 0
              ? ['--tune-budget-seconds', String(options.tuneBudget)]
              : ['--tune', 'false']),
          ],
          { cwd: join(ROOT, 'sagemaker'), onOutput: (output) => (trainerSays = lastLine(output)) },
        );
        if (code !== 0) throw new Error(`local training failed (exit ${code}):\n${log.slice(-4000)}`);
        const metrics = JSON.parse(readFileSync(join(output, 'metrics.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        const lines = readFileSync(join(output, 'recommendations.jsonl'), 'utf8')
          .trimEnd()
          .split('\n').length;
        const metric = (name: string) =>
          typeof metrics[name] === 'number' ? Number(metrics[name]).toFixed(3) : '?';
        const shown = [
          `recall@10 ${metric('recall_at_10')} (popularity ${metric('popularity_recall_at_10')})`,
          `${metrics.num_items} artists`,
        ];
        return { value: metrics, counts: [`${count(lines)} users with lists`, ...shown].join(', ') };
      },
      { detail: () => trainerSays },
    );

    const redis = await stage('cache (TLS cluster)', async () => {
      const r = await startRedisCluster();
      onCleanup(() => r.stop());
      return { value: r, counts: `redis-server on ${r.host}:${r.port}` };
    });
    const loaderConfig = readLoaderConfig({ CACHE_HOST: redis.host, CACHE_PORT: String(redis.port) });
    const recommendationsFile = join(output, 'recommendations.jsonl');
    let download: ReadStream | undefined;
    await stage(
      'cache load',
      async () => {
        const client = createCacheClient({
          host: redis.host,
          port: redis.port,
          ca: redis.ca,
          connectTimeoutMs: loaderConfig.cacheConnectTimeoutMs,
          commandTimeoutMs: loaderConfig.cacheCommandTimeoutMs,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const loaded = await loadCache(
            {
              bucket: 'local',
              recommendationsKey: 'recommendations.jsonl',
              popularityKey: 'popularity.json',
              variant: VARIANT,
            },
            {
              client,
              s3: localS3(output, (key, body) => {
                if (key === 'recommendations.jsonl') download = body;
              }),
              settings: loaderConfig.settings,
            },
          );
          return {
            value: loaded,
            counts: `${count(loaded.users)} users, ${count(loaded.badLines)} bad lines, version ${loaded.version}`,
          };
        } finally {
          client.disconnect();
        }
      },
      // The bytes of recommendations.jsonl the loader has read, not a count it reports.
      { total: statSync(recommendationsFile).size, unit: 'bytes', poll: () => download?.bytesRead ?? 0 },
    );

    const serving = readServingConfig(
      servingEnv(redis, {
        AB_VARIANTS: JSON.stringify([{ name: VARIANT, weight: 1 }]),
        SCORE_THRESHOLD: '0',
      }),
    );
    // A user whose list keeps items at the serving threshold, so the answer has something to show.
    const userId = readFileSync(recommendationsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { user_id: string; items: { score: number }[] })
      .find((u) => u.items.some((item) => item.score >= serving.scoreThreshold))?.user_id;
    if (!userId) throw new Error('no user has a recommendation at or above the serving threshold');

    const answer = await stage('serve', async () => {
      const handler = createHandler(serving, { cacheCa: redis.ca });
      onCleanup(() => handler.close());
      const result = await handler(
        {
          resource: '/v1/users/{userId}/recommendations',
          path: `/v1/users/${userId}/recommendations`,
          httpMethod: 'GET',
          headers: {},
          multiValueHeaders: {},
          pathParameters: { userId },
          queryStringParameters: { limit: '5' },
          multiValueQueryStringParameters: { limit: ['5'] },
          stageVariables: null,
          body: null,
          isBase64Encoded: false,
          requestContext: { requestId: 'e2e-local' } as never,
        },
        { awsRequestId: 'e2e-local' },
      );
      const body = JSON.parse(result.body) as Record<string, unknown>;
      const items = Array.isArray(body.items) ? body.items.length : 0;
      return {
        value: { statusCode: result.statusCode, body },
        counts: `GET ${userId}: ${result.statusCode}, source ${String(body.source)}, ${items} items`,
      };
    });

    print('');
    print(formatTable(rows));
    print('');
    print(
      `snapshot manifest: ${Object.keys(manifest.files).length} files, ${manifest.suppressedUsers} suppressed users`,
    );
    const items = Array.isArray(answer.body.items) ? answer.body.items : [];
    // The feedback channel must hold the generated served lists: every item labelled once.
    const feedbackRows =
      manifest.files[SNAPSHOT_FILES.trainFeedback].rows +
      manifest.files[SNAPSHOT_FILES.validationFeedback].rows;
    const feedbackOk = feedbackRows > 0 && feedbackRows === summary.servedItems;
    print(
      `feedback channel: ${feedbackRows} rows for ${summary.servedItems} served items: ${feedbackOk ? 'ok' : 'MISMATCH'}`,
    );
    const ok =
      feedbackOk &&
      answer.statusCode === 200 &&
      answer.body.source === 'cache' &&
      items.length > 0 &&
      conserved &&
      complete &&
      featureRecords.badLines === 0;
    print(
      `GET /v1/users/${userId}/recommendations?limit=5 -> ${answer.statusCode} source: ${String(answer.body.source)} ` +
        `variant: ${String(answer.body.variant)} modelVersion: ${String(answer.body.modelVersion)} items: ` +
        JSON.stringify(items.slice(0, 3)),
    );
    print(ok ? 'e2e:local ok' : 'e2e:local FAILED');
    return { ok, rows, answer };
  });
}

if (require.main === module) {
  runMain('e2e:local', async () => {
    const options = parseE2eArgs(process.argv.slice(2));
    // The servers' exit hooks stop them; a signal would otherwise end the process without running them.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
    const result = await runE2e(options);
    return result.ok ? EXIT.ok : EXIT.failed;
  });
}
