/**
 * `npm run e2e:local -- --design ad-click`: real-time scoring on this machine, through the code the
 * cloud runs: generated impressions whose click probabilities are known (`ad_click.generate`) ->
 * training through the SageMaker script-mode entry point, run locally (`ad_click.local_train`) ->
 * the model served by the local stand-in of its inference container (`ad_click.local_server`:
 * `GET /ping`, `POST /invocations`) behind a local SageMaker runtime endpoint
 * (scripts/support/local-sagemaker-endpoint.ts, reached through the SDK's endpoint setting) -> the
 * scoring handler (lambda/ad-click/score) answers `POST /v1/ads/score` requests of 100 candidates.
 *
 *   npm run e2e:local -- --design ad-click [--rows 200000] [--requests 1000] [--seed 1]
 *                                          [--work DIR] [--keep] [--quiet]
 *
 * The online Feature Store is the one part that cannot run here: the handler's client is mocked at
 * the SDK boundary (every BatchGetRecord checked against the pinned API model) and answers from the
 * generated users' features and the segments' click-through rates of the training rows.
 *
 * Request i takes the user and context of test row i and, as candidates, the ads of test rows i to
 * i + 99 (each with its own advertiser and category). The generator draws users, ads and contexts
 * independently, so these pairs follow the distribution the test rows were drawn from, and
 * candidate 0 is test row i itself.
 *
 * While it runs, each stage shows its progress on stderr (scripts/support/progress.ts). On stdout:
 * the stage table, one line per check, and `e2e:local ok` or `e2e:local FAILED`. Exit 0 when every
 * check holds, 1 otherwise, 2 on bad usage. The model server and the endpoint are stopped at the end
 * and on errors; the work directory (a temporary one unless --work) is removed unless --keep.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import type { ScoreRequest } from '../../lib/designs/ad-click/contracts';
import { lastLine, runCommand } from '../support/child-process';
import { Cli, EXIT, UsageError, integer, runMain } from '../support/cli';
import { Progress } from '../support/progress';
import { runStages, withWorkOptions } from '../support/stage-run';
import { formatTable, type StageRow } from '../support/stage-table';

// Powertools reads its environment when the handler module loads: set before it is imported. The
// metrics and warnings of degradations are not this run's output: its checks say what happened.
process.env.POWERTOOLS_SERVICE_NAME ??= 'scoring';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'AdClick';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_REGION ??= 'us-east-1';

const ROOT = join(__dirname, '..', '..');
const SAGEMAKER = join(ROOT, 'sagemaker');
const PY = join(SAGEMAKER, 'bin', 'py');
const ENDPOINT = 'ad-click-e2e';
const VARIANT = 'champion';
const USER_GROUP = 'ad-click-e2e-users';
const SEGMENT_GROUP = 'ad-click-e2e-segment-ctr';
/** Candidates per request: what one request may hold. */
const CANDIDATES = 100;
/** The generator's share of rows in test/ (ad_click.generate's default). */
const TEST_SHARE = 0.1;
/**
 * Pseudo-impressions at the global rate added to each segment's counts, so a segment seen a few
 * times has a CTR near the global one, as the feature pipeline smooths it.
 */
const SEGMENT_PRIOR_IMPRESSIONS = 100;
/** Standard errors the mean prediction may be from the observed click rate. */
const CALIBRATION_Z = 3;
/**
 * Generous deadlines: this run checks the path and its answers, not its latency (bench:serving
 * measures that); a busy machine must not turn a model answer into a fallback.
 */
const FEATURE_TIMEOUT_MS = 5_000;
const MODEL_TIMEOUT_MS = 10_000;
/** How long the model server may take to load torch and the model and say where it listens. */
const SERVER_START_MS = 90_000;
const SERVER_STOP_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;

export interface E2eOptions {
  rows: number;
  requests: number;
  seed: number;
  work?: string;
  keep: boolean;
  /** No progress on stderr. */
  quiet: boolean;
}

export { UsageError };

/** The command line of `npm run e2e:local -- --design ad-click`. */
export function e2eCli(): Cli {
  return withWorkOptions(
    new Cli({
      name: 'e2e:local',
      usage: 'npm run e2e:local -- --design ad-click',
      description:
        'Real-time scoring on this machine, through the code the cloud runs: generated impressions with known ' +
        'click probabilities -> local training (the SageMaker entry point) -> the local model server behind a ' +
        'local SageMaker runtime endpoint -> the scoring handler answers requests of 100 candidates.',
      notes: [
        "Prints each stage's counts and wall time, then its checks: every answer comes from the model, in",
        'candidate order, with probabilities in (0, 1); the mean predicted probability is within',
        `${CALIBRATION_Z} standard errors of the observed click rate of the test rows (the errors of that rate,`,
        'of the calibration share of training and of the scored sample); with the model server stopped,',
        "the next answer is a 200 from the fallback (the segments' CTRs). The Feature Store client is",
        'mocked at the SDK boundary, its calls checked against the API model. Needs sagemaker/bin/py',
        '(torch); no AWS account.',
      ].join('\n'),
      exitCodes: { 1: 'a check failed, or a stage failed' },
    })
      .option(
        '--rows <count>',
        'impressions to generate (a tenth are test rows)',
        integer(10_000, 10_000_000),
        200_000,
      )
      .option(
        '--requests <count>',
        `scoring requests of ${CANDIDATES} candidates (at most the test rows)`,
        integer(1, 100_000),
        1000,
      )
      .option('--seed <n>', 'seed of the generated data', integer(0, 2 ** 31), 1),
  );
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseE2eArgs(argv: readonly string[]): E2eOptions {
  const values = e2eCli().parse<{
    rows: number;
    requests: number;
    seed: number;
    work?: string;
    keep: boolean;
    quiet: boolean;
  }>(argv, (options, problem) => {
    // A bad --rows or --requests is already named; only two good values are compared.
    if (typeof options.rows !== 'number' || typeof options.requests !== 'number') return;
    const testRows = Math.floor(options.rows * TEST_SHARE);
    if (options.requests > testRows)
      problem(
        `--requests ${options.requests} is more than the ${testRows} test rows of --rows ${options.rows}`,
      );
  });
  return {
    rows: values.rows,
    requests: values.requests,
    seed: values.seed,
    work: values.work,
    keep: values.keep,
    quiet: values.quiet,
  };
}

/** A channel's data.csv (or a truth file) as columns by header name; values hold no comma or quote. */
function readColumns(path: string): { rows: number; column: (name: string) => string[] } {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const header = lines[0].split(',');
  const cells = lines.slice(1).map((line) => line.split(','));
  return {
    rows: cells.length,
    column: (name) => {
      const at = header.indexOf(name);
      if (at < 0) throw new Error(`${path}: no column ${name} (it has ${header.join(', ')})`);
      return cells.map((row) => row[at]);
    },
  };
}

/** Runs a Python tool of sagemaker/ to its end; `onOutput` sees its output (stdout and stderr) as it comes. */
function run(args: string[], onOutput?: (output: string) => void): Promise<{ code: number; output: string }> {
  // One line per stage from the Python tools, never a bar: their output is read, not shown.
  return runCommand(PY, args, {
    cwd: SAGEMAKER,
    env: { ...process.env, RECOMMENDER_PROGRESS: 'lines' },
    onOutput,
  });
}

interface ModelServer {
  readonly url: string;
  /** Stops it (SIGTERM, then SIGKILL after SERVER_STOP_MS) and waits until it has exited. */
  stop(): Promise<void>;
}

/** Starts `ad_click.local_server` on a free port and waits until it says where it listens. */
function startModelServer(modelDir: string): Promise<ModelServer> {
  const child = spawn(PY, ['-m', 'ad_click.local_server', '--model-dir', modelDir, '--port', '0'], {
    cwd: SAGEMAKER,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Whatever ends this process, the server goes with it.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.removeListener('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_MS);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    /** What it printed until it said where it listens; undefined after. */
    let stdout: string | undefined = '';
    let stderr = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop().then(() =>
        reject(new Error(`the model server ${why}${stderr ? `: ${stderr.trim().slice(-2000)}` : ''}`)),
      );
    };
    const timer = setTimeout(() => fail(`did not start within ${SERVER_START_MS / 1000} s`), SERVER_START_MS);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const early = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited (${signal ?? `exit ${code}`}) before it listened`);
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout === undefined) return;
      stdout += chunk.toString();
      const url = /^listening on (http:\/\/\S+)$/m.exec(stdout)?.[1];
      if (url) {
        stdout = undefined;
        clearTimeout(timer);
        child.removeListener('exit', early);
        resolve({ url, stop });
      }
    });
    child.once('error', (error) => fail(`could not start (${error.message})`));
    child.once('exit', early);
  });
}

/** GET /ping of the container contract, within a deadline: its status code. */
function ping(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(new URL('/ping', url), { signal: AbortSignal.timeout(PING_TIMEOUT_MS) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

const count = (n: number) => n.toLocaleString('en-US');
const rate = (p: number) => p.toFixed(5);

export interface E2eResult {
  ok: boolean;
  rows: StageRow[];
  checks: Record<'answers' | 'calibration' | 'fallback' | 'featureStore' | 'endpoint', boolean>;
  calibration?: { meanPredicted: number; observed: number; meanTrueP: number; tolerance: number };
}

export async function runE2e(
  options: E2eOptions,
  print: (line: string) => void = console.log,
  progress: Progress = new Progress({ quiet: options.quiet }),
): Promise<E2eResult> {
  // The runtime client signs its calls: with these, and no credential lookup of any kind, since every
  // call it makes goes to the local endpoint.
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;

  const { BatchGetRecordCommand, SageMakerFeatureStoreRuntimeClient } =
    await import('@aws-sdk/client-sagemaker-featurestore-runtime');
  const { apiCheckedMockClient, takeRecordedProblems } =
    await import('../../test/support/aws-api-model/mock');
  const { FakeOnlineStore, lambdaContext, scoreEvent } =
    await import('../../test/designs/ad-click/support/scoring-fixtures');
  const { startLocalEndpoint } = await import('../support/local-sagemaker-endpoint');
  const { FALLBACK_MODEL_VERSION, ScoreResponse, segmentId } =
    await import('../../lib/designs/ad-click/contracts');
  const { SCORING_ENV, featureGroupEnv } = await import('../../lambda/platform/realtime/function-contract');
  const { FEATURE_GROUP_KEYS, readScoringConfig } = await import('../../lambda/ad-click/score/config');
  const { createHandler } = await import('../../lambda/ad-click/score/handler');

  return runStages(options, print, progress, async ({ work, rows, stage, onCleanup }) => {
    const data = join(work, 'data');
    let says = '';
    const manifest = await stage(
      'generate',
      async () => {
        const { code, output } = await run(
          [
            '-m',
            'ad_click.generate',
            '--out',
            data,
            '--rows',
            String(options.rows),
            '--seed',
            String(options.seed),
          ],
          (output) => (says = lastLine(output)),
        );
        if (code !== 0) throw new Error(`generating failed (exit ${code}):\n${output.slice(-4000)}`);
        const m = JSON.parse(readFileSync(join(data, 'manifest.json'), 'utf8')) as {
          splits: Record<'train' | 'validation' | 'test', { rows: number; clicks: number }>;
        };
        const { train, validation, test } = m.splits;
        return {
          value: m,
          counts: `${count(options.rows)} impressions: train ${count(train.rows)}, validation ${count(validation.rows)}, test ${count(test.rows)}`,
        };
      },
      { detail: () => says },
    );

    const trainWork = join(work, 'train');
    const jobName = `ad-click-e2e-${options.seed}`;
    const metrics = await stage(
      'train (local)',
      async () => {
        const { code, output } = await run(
          [
            '-m',
            'ad_click.local_train',
            '--train',
            join(data, 'train'),
            '--validation',
            join(data, 'validation'),
            '--work',
            trainWork,
            '--job-name',
            jobName,
          ],
          (output) => (says = lastLine(output)),
        );
        if (code !== 0) throw new Error(`local training failed (exit ${code}):\n${output.slice(-4000)}`);
        const m = JSON.parse(readFileSync(join(trainWork, 'output', 'data', 'metrics.json'), 'utf8')) as {
          model_version: string;
          log_loss: number;
          baseline_log_loss: number;
          auc: number;
          expected_calibration_error: number;
          train_rows: number;
          train_click_rate: number;
          hyperparameters: { inner_fraction: number };
        };
        return {
          value: m,
          counts:
            `model ${m.model_version}: validation log loss ${m.log_loss.toFixed(4)} (global rate ` +
            `${m.baseline_log_loss.toFixed(4)}), AUC ${m.auc.toFixed(3)}, ECE ${m.expected_calibration_error.toFixed(4)}`,
        };
      },
      { detail: () => says },
    );

    const server = await stage('model server', async () => {
      const s = await startModelServer(join(trainWork, 'model'));
      onCleanup(() => s.stop());
      const status = await ping(s.url);
      if (status !== 200) throw new Error(`GET ${s.url}/ping answered ${status}`);
      return { value: s, counts: `ad_click.local_server on ${s.url}, GET /ping 200` };
    });

    const endpoint = await stage('endpoint', async () => {
      const e = await startLocalEndpoint({
        endpointName: ENDPOINT,
        container: server.url,
        variants: [VARIANT],
      });
      onCleanup(() => e.close());
      // Read by the runtime client at its first call.
      process.env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME = e.url;
      return { value: e, counts: `InvokeEndpoint ${ENDPOINT} at ${e.url} -> ${server.url}/invocations` };
    });

    const store = new FakeOnlineStore();
    const featureStore = await stage('feature store (mock)', async () => {
      const eventTime = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      let users = 0;
      for (const split of ['train', 'validation', 'test']) {
        const c = readColumns(join(data, split, 'data.csv'));
        const [ids, ages, countries] = ['user_id', 'age_group', 'country'].map((name) => c.column(name));
        ids.forEach((id, i) => {
          if (store.groups.get(USER_GROUP)?.has(id)) return;
          store.put(USER_GROUP, id, {
            user_id: id,
            age_group: ages[i],
            country: countries[i],
            event_time: eventTime,
          });
          users++;
        });
      }
      const train = readColumns(join(data, 'train', 'data.csv'));
      const [labels, placements, categories] = ['label', 'placement', 'ad_category'].map((n) =>
        train.column(n),
      );
      const segments = new Map<string, { impressions: number; clicks: number }>();
      labels.forEach((label, i) => {
        const id = segmentId(placements[i], categories[i]);
        const s = segments.get(id) ?? { impressions: 0, clicks: 0 };
        s.impressions++;
        if (label === '1') s.clicks++;
        segments.set(id, s);
      });
      const global = metrics.train_click_rate;
      for (const [id, s] of segments) {
        const ctr =
          (s.clicks + SEGMENT_PRIOR_IMPRESSIONS * global) / (s.impressions + SEGMENT_PRIOR_IMPRESSIONS);
        store.put(SEGMENT_GROUP, id, {
          segment_id: id,
          ctr: String(ctr),
          impressions: String(s.impressions),
          event_time: eventTime,
        });
      }
      const mock = apiCheckedMockClient(SageMakerFeatureStoreRuntimeClient);
      mock.on(BatchGetRecordCommand).callsFake((input) => store.answer(input));
      onCleanup(() => mock.restore());
      return {
        value: mock,
        counts: `${count(users)} user records, ${count(segments.size)} segment CTRs; BatchGetRecord mocked at the SDK client, checked against the API model`,
      };
    });

    const config = readScoringConfig({
      [SCORING_ENV.endpointName]: ENDPOINT,
      [SCORING_ENV.variants]: JSON.stringify([{ name: VARIANT, weight: 1 }]),
      [featureGroupEnv(FEATURE_GROUP_KEYS.user)]: USER_GROUP,
      [featureGroupEnv(FEATURE_GROUP_KEYS.segmentCtr)]: SEGMENT_GROUP,
      [SCORING_ENV.featureTimeoutMs]: String(FEATURE_TIMEOUT_MS),
      [SCORING_ENV.modelTimeoutMs]: String(MODEL_TIMEOUT_MS),
      // The long-run click rate: what the training rows say.
      [SCORING_ENV.fallbackPrior]: String(metrics.train_click_rate),
    });
    const handler = createHandler(config);

    const test = readColumns(join(data, 'test', 'data.csv'));
    if (test.rows !== manifest.splits.test.rows)
      throw new Error(
        `test/data.csv holds ${test.rows} rows, the manifest says ${manifest.splits.test.rows}`,
      );
    const column = Object.fromEntries(
      [
        'label',
        'user_id',
        'device',
        'placement',
        'hour_of_day',
        'day_of_week',
        'ad_id',
        'advertiser_id',
        'ad_category',
      ].map((name) => [name, test.column(name)]),
    );
    const trueP = readColumns(join(data, 'true_p', 'test.csv'))
      .column('true_p')
      .map(Number);
    const requestOf = (i: number): ScoreRequest => ({
      userId: column.user_id[i],
      context: {
        device: column.device[i],
        placement: column.placement[i],
        hourOfDay: Number(column.hour_of_day[i]),
        dayOfWeek: column.day_of_week[i] as ScoreRequest['context']['dayOfWeek'],
      },
      candidates: Array.from({ length: CANDIDATES }, (_, k) => {
        const row = (i + k) % test.rows;
        return {
          adId: column.ad_id[row],
          advertiserId: column.advertiser_id[row],
          adCategory: column.ad_category[row],
        };
      }),
    });
    const score = async (request: ScoreRequest, requestId: string) => {
      const result = await handler(
        scoreEvent(request, { requestContext: { requestId } as never }),
        lambdaContext,
      );
      return { statusCode: result.statusCode, body: JSON.parse(result.body) as unknown };
    };

    // The answers: each checked, and the predictions kept for the calibration.
    const bad: string[] = [];
    const requestMeans: number[] = [];
    const ownRows: { predicted: number; trueP: number }[] = [];
    let sum = 0;
    let scores = 0;
    await stage(
      'score',
      async (shown) => {
        for (let i = 0; i < options.requests; i++) {
          const request = requestOf(i);
          const answer = await score(request, `e2e-${i}`);
          const parsed = ScoreResponse.safeParse(answer.body);
          const problem =
            answer.statusCode !== 200
              ? `status ${answer.statusCode}: ${JSON.stringify(answer.body).slice(0, 200)}`
              : !parsed.success
                ? `an answer outside the contract: ${parsed.error.issues[0]?.message}`
                : parsed.data.source !== 'model'
                  ? `source ${parsed.data.source}`
                  : parsed.data.modelVersion !== metrics.model_version
                    ? `model ${parsed.data.modelVersion}, expected ${metrics.model_version}`
                    : parsed.data.scores.length !== CANDIDATES ||
                        parsed.data.scores.some((s, k) => s.adId !== request.candidates[k].adId)
                      ? 'scores not in candidate order'
                      : parsed.data.scores.some((s) => !(s.probability > 0 && s.probability < 1))
                        ? 'a probability outside (0, 1)'
                        : undefined;
          if (problem || !parsed.success) {
            bad.push(`request ${i}: ${problem}`);
          } else {
            const values = parsed.data.scores.map((s) => s.probability);
            const total = values.reduce((a, b) => a + b, 0);
            sum += total;
            scores += values.length;
            requestMeans.push(total / values.length);
            ownRows.push({ predicted: values[0], trueP: trueP[i] });
          }
          shown.add();
        }
        return {
          value: undefined,
          counts: `${count(options.requests)} requests of ${CANDIDATES} candidates: ${count(requestMeans.length)} model answers as expected`,
        };
      },
      { total: options.requests, unit: 'requests' },
    );

    // Stopping the model server leaves the endpoint without a container: the next answer is the fallback's.
    const fallback = await stage('fallback', async () => {
      await server.stop();
      const request = requestOf(0);
      const answer = await score(request, 'e2e-fallback');
      const parsed = ScoreResponse.safeParse(answer.body);
      const expected = request.candidates.map((c) => {
        const ctr = store.groups
          .get(SEGMENT_GROUP)
          ?.get(segmentId(request.context.placement, c.adCategory))?.ctr;
        return ctr === undefined ? config.globalPriorCtr : Number(ctr);
      });
      const ok =
        answer.statusCode === 200 &&
        parsed.success &&
        parsed.data.source === 'fallback' &&
        parsed.data.modelVersion === FALLBACK_MODEL_VERSION &&
        parsed.data.scores.every(
          (s, k) => s.adId === request.candidates[k].adId && s.probability === expected[k],
        );
      const source = parsed.success ? parsed.data.source : 'none (an answer outside the contract)';
      return {
        value: { ok, statusCode: answer.statusCode, source, modelVersion: parsed.data?.modelVersion },
        counts: `model server stopped; POST /v1/ads/score -> ${answer.statusCode}, source ${source}`,
      };
    });

    // The calibration, end to end: the mean of what was served against the test rows' click rate.
    const labels = column.label;
    const observed = labels.filter((label) => label === '1').length / labels.length;
    const meanTrueP = trueP.reduce((a, b) => a + b, 0) / trueP.length;
    const meanPredicted = scores > 0 ? sum / scores : Number.NaN;
    const innerRows = Math.round(metrics.train_rows * metrics.hyperparameters.inner_fraction);
    const spread = sampleVariance(requestMeans);
    const variance = observed * (1 - observed);
    const tolerance =
      CALIBRATION_Z *
      Math.sqrt(variance / labels.length + variance / innerRows + spread / requestMeans.length);
    const difference = Math.abs(meanPredicted - observed);

    const checks = {
      answers: bad.length === 0 && requestMeans.length === options.requests,
      calibration: difference <= tolerance,
      fallback: fallback.ok,
      featureStore: false,
      endpoint: false,
    };
    const reads = featureStore.commandCalls(BatchGetRecordCommand).length;
    const invalidReads = takeRecordedProblems();
    checks.featureStore = reads === options.requests + 1 && invalidReads.length === 0;
    const answered = [...endpoint.answered.values()].reduce((a, b) => a + b, 0);
    checks.endpoint = answered === options.requests && endpoint.problems.length === 0;

    print('');
    print(formatTable(rows));
    print('');
    const mark = (ok: boolean) => (ok ? 'ok' : 'FAILED');
    print(
      `answers: ${count(options.requests)} requests -> ${count(requestMeans.length)} answered 200 by the model ` +
        `${metrics.model_version}, ${CANDIDATES} scores each in candidate order, probabilities in (0, 1): ` +
        `${mark(checks.answers)}${bad.length ? ` (${bad.length} not: ${bad.slice(0, 3).join('; ')})` : ''}`,
    );
    print(
      `calibration: mean predicted ${rate(meanPredicted)} over ${count(scores)} scores; observed click rate ` +
        `${rate(observed)} of ${count(labels.length)} test rows (mean true p ${rate(meanTrueP)}); ` +
        `|difference| ${rate(difference)} <= tolerance ${rate(tolerance)}: ${mark(checks.calibration)}`,
    );
    if (ownRows.length > 0) {
      const mean = (f: (r: { predicted: number; trueP: number }) => number) =>
        ownRows.reduce((total, r) => total + f(r), 0) / ownRows.length;
      print(
        `test rows scored as generated (candidate 0 of each request, ${count(ownRows.length)}): mean predicted ` +
          `${rate(mean((r) => r.predicted))}, mean true p ${rate(mean((r) => r.trueP))}, mean |predicted - true p| ` +
          `${rate(mean((r) => Math.abs(r.predicted - r.trueP)))}`,
      );
    }
    print(
      `fallback: model server stopped -> ${fallback.statusCode}, source ${fallback.source}, model ` +
        `${fallback.modelVersion ?? '?'}, each score its segment's CTR: ${mark(checks.fallback)}`,
    );
    print(
      `feature store: ${count(reads)} BatchGetRecord calls (one per request), ${invalidReads.length} against ` +
        `the API model: ${mark(checks.featureStore)}${invalidReads.length ? ` (${invalidReads[0].message})` : ''}`,
    );
    const failures = [...endpoint.failed.entries()].map(([type, n]) => `${type} ${n}`).join(', ') || 'none';
    print(
      `endpoint: ${count(answered)} invocations answered by the container, errors: ${failures}, ` +
        `${endpoint.problems.length} invalid requests: ${mark(checks.endpoint)}` +
        `${endpoint.problems.length ? ` (${endpoint.problems[0]})` : ''}`,
    );
    const ok = Object.values(checks).every(Boolean);
    print(ok ? 'e2e:local ok' : 'e2e:local FAILED');
    return { ok, rows, checks, calibration: { meanPredicted, observed, meanTrueP, tolerance } };
  });
}

/** The unbiased sample variance; 0 for fewer than two values. */
function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((total, v) => total + (v - mean) ** 2, 0) / (values.length - 1);
}

if (require.main === module) {
  runMain('e2e:local', async () => {
    const options = parseE2eArgs(process.argv.slice(2));
    // The model server's exit hook stops it; a signal would otherwise end the process without running it.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
    const result = await runE2e(options);
    return result.ok ? EXIT.ok : EXIT.failed;
  });
}
