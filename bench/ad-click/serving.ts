/**
 * `npm run bench:serving -- --design ad-click [--json] [--requests N] [--answer-ms MS]` (--help lists
 * every option): what the scoring function costs.
 *
 * 1. Latency of the scoring handler, invoked in-process with requests of 100 candidates, next to a
 *    raw InvokeEndpoint of the same endpoint with the same model request (a SageMaker runtime client
 *    with the handler's options), and next to the same call through the platform's JsonEndpoint with
 *    the answer checked against the model contract (the floor any JSON caller pays). Alternating
 *    blocks, the order rotating, so all three see the same noise; p50/p99 at concurrency 1, reported
 *    as handler p99 / raw p99 and as the milliseconds the handler adds.
 *
 *    The endpoint is an in-process stub behind a local SageMaker runtime endpoint
 *    (scripts/support/local-sagemaker-endpoint.ts, reached through the SDK's endpoint setting, so
 *    both clients run their whole stack over loopback HTTP), answering a fixed body after a fixed
 *    time (--answer-ms, a busy wait, 0 by default). Not the local model server: what the handler
 *    adds is the difference of two latencies that both contain the endpoint's, so the endpoint's own
 *    time only adds its noise to both tails (a Python server's scheduling and garbage collection
 *    included); a fixed answer time keeps the difference the handler's. With the default 0 ms the
 *    ratio is the strictest there is: the bare SDK call over loopback as the denominator; a real
 *    endpoint's time (network, model) adds to both sides and brings the ratio towards 1.
 *
 *    The Feature Store client is mocked at the SDK boundary (aws-sdk-client-mock, no API-model
 *    check, which production does not pay) and answers from memory: the handler's time holds the
 *    read's request building and record decoding, not a network round trip to the store.
 *    Powertools writes to stdout as in production; those writes go to /dev/null, so their cost stays
 *    in the measured path and stdout stays clean for the report.
 * 2. The bundle, built with esbuild the way the platform's BundledFunction builds it (platform node,
 *    cjs, minify, the SDK clients bundled as the function bundles them): its size and its largest parts.
 *
 * Each step shows its progress on stderr (scripts/support/progress.ts; --quiet: none). The measured
 * step is redrawn only between blocks, never from a timer inside a timed call.
 */
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { Cli, EXIT, decimal, integer, runMain } from '../../scripts/support/cli';
import { Progress } from '../../scripts/support/progress';
import {
  alternatingBlocks,
  bundle,
  count,
  fmt,
  isNoisy,
  report,
  round,
  roundStats,
  silenceStdout,
  stats,
  tableLines,
  warmUp,
} from '../support/measure';

const ROOT = join(__dirname, '..', '..');
const OUT_DIR = join(ROOT, '.bench', 'serving', 'ad-click');
const ENTRY = join(ROOT, 'lambda', 'ad-click', 'score', 'handler.ts');
const ENDPOINT = 'ad-click-bench';
const VARIANT = 'champion';
const USER_GROUP = 'ad-click-bench-users';
const SEGMENT_GROUP = 'ad-click-bench-segment-ctr';
const CANDIDATES = 100;
const USERS = 1000;
/** Deadlines far above any answer here: a measured call must never become a fallback. */
const TIMEOUT_MS = 5000;

interface Args {
  json: boolean;
  requests: number;
  block: number;
  warmUp: number;
  answerMs: number;
  quiet: boolean;
}

/** The command line of `npm run bench:serving -- --design ad-click`. */
export function servingBenchCli(): Cli {
  return new Cli({
    name: 'bench:serving',
    usage: 'npm run bench:serving -- --design ad-click',
    description:
      'What the scoring function costs: p50/p99 of the handler with 100 candidates per request next to a raw ' +
      'InvokeEndpoint of the same stub endpoint (handler p99 / raw p99, and the milliseconds added), and the ' +
      'size of its bundle.',
    notes: [
      'The endpoint is an in-process stub with a fixed answer time behind a local SageMaker runtime endpoint;',
      'the Feature Store client is mocked at the SDK boundary. Writes the bundle to .bench/serving/ad-click/.',
      'Run it on a quiet machine.',
    ].join('\n'),
    exitCodes: { 1: 'the bench failed' },
  })
    .flag('--json', 'print one JSON object instead of the table')
    .option(
      '--requests <count>',
      'requests measured at concurrency 1, each side',
      integer(1, 10_000_000),
      10_000,
    )
    .option('--block <count>', 'requests per alternating block', integer(1, 1_000_000), 200)
    .option(
      '--warm-up <count>',
      'unmeasured requests first, each side (JIT, connections)',
      integer(0, 1_000_000),
      1000,
    )
    .option(
      '--answer-ms <ms>',
      "the stub endpoint's fixed answer time, a busy wait (0: answer at once)",
      decimal(0, 1000),
      0,
    )
    .quietFlag();
}

// The environment the serving stack sets for Powertools; read when the handler module loads.
Object.assign(process.env, {
  POWERTOOLS_SERVICE_NAME: 'scoring',
  POWERTOOLS_METRICS_NAMESPACE: 'AdClick',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  AWS_REGION: 'us-east-1',
});

/** Busy-waits `ms`: the same answer time on every call, which a timer would not give. */
function spin(ms: number): void {
  if (ms <= 0) return;
  const until = performance.now() + ms;
  while (performance.now() < until);
}

async function latency(args: Args, progress: Progress) {
  // The runtime clients sign their calls: with these, and no credential lookup of any kind, since
  // every call goes to the local endpoint.
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;
  const { mockClient } = await import('aws-sdk-client-mock');
  const { BatchGetRecordCommand, SageMakerFeatureStoreRuntimeClient } =
    await import('@aws-sdk/client-sagemaker-featurestore-runtime');
  const { InvokeEndpointCommand, SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
  const { startLocalEndpoint } = await import('../../scripts/support/local-sagemaker-endpoint');
  const { FakeOnlineStore, lambdaContext, scoreEvent } =
    await import('../../test/designs/ad-click/support/scoring-fixtures');
  const { ModelAnswer, segmentId, toModelRequest } = await import('../../lib/designs/ad-click/contracts');
  const { JsonEndpoint } = await import('../../lambda/platform/realtime/json-endpoint');
  const { SCORING_ENV, featureGroupEnv } = await import('../../lambda/platform/realtime/function-contract');
  const { FEATURE_GROUP_KEYS, readScoringConfig } = await import('../../lambda/ad-click/score/config');
  const { createHandler } = await import('../../lambda/ad-click/score/handler');

  // A fixed answer: what the model's inference handler writes for 100 candidates.
  const answer = Buffer.from(
    JSON.stringify({
      probabilities: Array.from(
        { length: CANDIDATES },
        (_, i) => Math.round((0.01 + i * 0.0004) * 1e8) / 1e8,
      ),
      model_version: 'ad-click-bench-1',
    }),
  );
  const endpoint = await progress.track(
    'endpoint stub',
    {},
    () =>
      startLocalEndpoint({
        endpointName: ENDPOINT,
        variants: [VARIANT],
        // The checks cost time production does not spend; the e2e run makes them.
        checkRequests: false,
        container: () => {
          spin(args.answerMs);
          return { status: 200, body: answer };
        },
      }),
    (e) => `${e.url}, answering after ${args.answerMs} ms`,
  );
  process.env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME = endpoint.url;

  const featureStore = mockClient(SageMakerFeatureStoreRuntimeClient);
  try {
    const placements = ['feed', 'sidebar', 'search', 'video_preroll', 'interstitial'];
    const categories = [
      'travel',
      'finance',
      'retail',
      'gaming',
      'auto',
      'health',
      'beauty',
      'food',
      'education',
    ];
    const store = new FakeOnlineStore();
    const eventTime = '2026-12-01T00:00:00Z';
    const users = Array.from({ length: USERS }, (_, i) => `u${String(i).padStart(6, '0')}`);
    for (const [i, userId] of users.entries()) {
      store.put(USER_GROUP, userId, {
        user_id: userId,
        age_group: ['18-24', '25-34', '35-44', '45-54'][i % 4],
        country: ['US', 'GB', 'DE'][i % 3],
        event_time: eventTime,
      });
    }
    for (const [p, placement] of placements.entries()) {
      for (const [c, category] of categories.entries()) {
        const id = segmentId(placement, category);
        store.put(SEGMENT_GROUP, id, {
          segment_id: id,
          ctr: String(0.01 + (p * categories.length + c) * 0.0005),
          impressions: '100000',
          event_time: eventTime,
        });
      }
    }
    featureStore.on(BatchGetRecordCommand).callsFake((input) => store.answer(input));

    const config = readScoringConfig({
      [SCORING_ENV.endpointName]: ENDPOINT,
      [SCORING_ENV.variants]: JSON.stringify([{ name: VARIANT, weight: 1 }]),
      [featureGroupEnv(FEATURE_GROUP_KEYS.user)]: USER_GROUP,
      [featureGroupEnv(FEATURE_GROUP_KEYS.segmentCtr)]: SEGMENT_GROUP,
      [SCORING_ENV.featureTimeoutMs]: String(TIMEOUT_MS),
      [SCORING_ENV.modelTimeoutMs]: String(TIMEOUT_MS),
      [SCORING_ENV.fallbackPrior]: '0.03',
    });
    const handler = createHandler(config);
    // The raw client: the handler's options (one attempt), the same endpoint setting.
    const raw = new SageMakerRuntimeClient({ maxAttempts: 1 });
    const json = new JsonEndpoint(new SageMakerRuntimeClient({ maxAttempts: 1 }), ENDPOINT, TIMEOUT_MS);

    const requests = users.map((userId, i) => ({
      userId,
      context: {
        device: 'mobile',
        placement: placements[i % placements.length],
        hourOfDay: i % 24,
        dayOfWeek: 'tue' as const,
      },
      candidates: Array.from({ length: CANDIDATES }, (_, k) => ({
        adId: `ad${String((i * 7 + k) % 3000).padStart(5, '0')}`,
        advertiserId: `adv${String(k % 50).padStart(3, '0')}`,
        adCategory: categories[(i + k) % categories.length],
      })),
    }));
    // Built before the clock starts: the events as API Gateway sends them, and the model requests
    // the handler sends for them (the stored user features included).
    const events = requests.map((request, i) =>
      scoreEvent(request, { requestContext: { requestId: `bench-${i}` } as never }),
    );
    const modelRequests = requests.map((request) => {
      const user = store.groups.get(USER_GROUP)!.get(request.userId)!;
      return toModelRequest(request, { age_group: user.age_group, country: user.country });
    });
    const bodies = modelRequests.map((request) => new TextEncoder().encode(JSON.stringify(request)));

    const callHandler = async (i: number) => {
      const result = await handler(events[i % USERS], lambdaContext);
      if (result.statusCode !== 200 || !result.body.includes('"source":"model"'))
        throw new Error(
          `the handler did not answer from the model: ${result.statusCode} ${result.body.slice(0, 300)}`,
        );
    };
    const callRaw = async (i: number) => {
      const result = await raw.send(
        new InvokeEndpointCommand({
          EndpointName: ENDPOINT,
          TargetVariant: VARIANT,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: bodies[i % USERS],
        }),
      );
      if (!result.Body) throw new Error('the raw invoke got no body');
    };
    const callJson = async (i: number) => {
      const parsed = ModelAnswer.safeParse(
        await json.invoke(modelRequests[i % USERS], { targetVariant: VARIANT }),
      );
      if (!parsed.success || parsed.data.probabilities.length !== CANDIDATES)
        throw new Error('the JSON invoke got an answer outside the model contract');
    };

    const contenders = [callHandler, callRaw, callJson];
    await warmUp(progress, contenders, args.warmUp);
    const [handlerSamples, rawSamples, jsonSamples] = await alternatingBlocks(progress, contenders, {
      requests: args.requests,
      block: args.block,
      names: 'handler, raw invoke, invoke + JSON',
    });
    const failed = [...endpoint.failed.values()].reduce((a, b) => a + b, 0);
    if (failed > 0) throw new Error(`the endpoint refused ${failed} invocations`);
    return {
      handler: roundStats(stats(handlerSamples)),
      raw: roundStats(stats(rawSamples)),
      json: roundStats(stats(jsonSamples)),
    };
  } finally {
    featureStore.restore();
    await endpoint.close();
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = servingBenchCli().parse<Args>(argv);
  const progress = new Progress({ quiet: args.quiet });
  const restoreStdout = silenceStdout();
  try {
    const measured = await latency(args, progress);
    const built = await progress.track(
      'bundle (esbuild)',
      {},
      // What the platform's BundledFunction asks NodejsFunction for: node24, the SDK clients bundled.
      () => bundle({ entry: ENTRY, outDir: OUT_DIR, target: 'node24', ownCode: 'project code' }),
      (b) => `${b.kb} KB`,
    );
    const { handler, raw, json } = measured;
    const load = round(loadavg()[0], 2);
    const noisy = isNoisy(load, cpus().length, raw);
    const result = {
      node: process.version,
      cpus: cpus().length,
      loadAverage1m: load,
      noisy,
      requests: args.requests,
      block: args.block,
      warmUp: args.warmUp,
      candidates: CANDIDATES,
      endpoint: {
        kind: 'in-process stub behind a local SageMaker runtime endpoint',
        answerMs: args.answerMs,
      },
      handler,
      raw,
      rawPlusJson: json,
      p50Ratio: round(handler.p50Us / raw.p50Us, 2),
      p99Ratio: round(handler.p99Us / raw.p99Us, 2),
      addedMs: {
        p50: round((handler.p50Us - raw.p50Us) / 1000, 3),
        p99: round((handler.p99Us - raw.p99Us) / 1000, 3),
      },
      bundle: { kb: built.kb, largest: built.largest },
    };

    if (args.json) {
      report(JSON.stringify(result));
    } else {
      const rows: string[][] = [
        ['measure', 'handler', 'raw invoke', 'invoke+JSON', 'handler/raw', 'added (ms)'],
        [
          'p50 latency, concurrency 1 (us)',
          fmt(handler.p50Us),
          fmt(raw.p50Us),
          fmt(json.p50Us),
          fmt(result.p50Ratio, 2),
          fmt(result.addedMs.p50, 3),
        ],
        [
          'p99 latency, concurrency 1 (us)',
          fmt(handler.p99Us),
          fmt(raw.p99Us),
          fmt(json.p99Us),
          fmt(result.p99Ratio, 2),
          fmt(result.addedMs.p99, 3),
        ],
        ['bundle, minified JS (KB)', fmt(built.kb, 1), '', '', '', ''],
      ];
      report(
        `serving bench: node ${process.version}, ${count(args.requests)} requests of ${CANDIDATES} candidates each ` +
          `(alternating blocks of ${args.block}), stub endpoint answering after ${args.answerMs} ms over loopback HTTP`,
      );
      report(`machine: ${cpus().length} CPUs, load average ${load} at the end of the run`);
      if (noisy) {
        report(
          'WARNING: the machine is busy (load, or raw p99 > 5x its p50): the p99 figures measure ' +
            'preemption more than the code; rerun on a quiet machine before trusting them.',
        );
      }
      for (const line of tableLines(rows)) report(line);
      report(
        'raw invoke: InvokeEndpoint with the encoded model request; invoke+JSON: the same through JsonEndpoint, ' +
          'answer parsed and checked; the handler adds request parsing, the Feature Store read (in memory here), ' +
          'the model request, the response.',
      );
      report(`largest bundle parts (KB): ${built.largest.map(({ name, kb }) => `${name} ${kb}`).join(', ')}`);
    }
    const wrote = `wrote ${relative(process.cwd(), built.outfile)} (the bundle measured) and its source map`;
    if (args.json) process.stderr.write(`${wrote}\n`);
    else report(wrote);
    return EXIT.ok;
  } finally {
    restoreStdout();
  }
}

if (require.main === module) runMain('bench:serving', () => main(process.argv.slice(2)));
