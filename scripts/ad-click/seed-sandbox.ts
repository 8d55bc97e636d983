/**
 * `npm run ad-click:seed-sandbox`: gives a deployed ad click sandbox what it is deployed without:
 * training channels and online features, and (optionally) starts its training pipeline.
 *
 *   npm run ad-click:seed-sandbox -- [--profile sandbox] [--rows 200000 --seed 1 | --from DIR]
 *                                    [--start-training] [--region R] [--quiet]
 *
 * 1. Generates impressions with the model package's generator (`sagemaker/bin/py -m
 *    ad_click.generate`) into a temporary directory, or takes the directory of an earlier run
 *    (--from), and reads its `train/data.csv` and `validation/data.csv`.
 * 2. Finds the deployed resources from the outputs of `AdClick-<profile>-data`
 *    (ArtifactsBucketName, UserFeaturesGroupName, SegmentCtrGroupName) and, for --start-training,
 *    `AdClick-<profile>-pipeline` (StateMachineArn).
 * 3. Uploads the two channels to `training/current/{train,validation}/data.csv` of the artefacts
 *    bucket (the bucket's default encryption applies).
 * 4. Writes the online features with PutRecord: one UserFeatures record per user of the training
 *    rows, one SegmentCtr record per placement and ad category. Every record is checked against
 *    its contract (lib/designs/ad-click/contracts/online-features.ts) before anything is sent.
 * 5. With --start-training, starts the training state machine; otherwise prints the command that does.
 *
 * Only training rows make features: the validation rows judge the model, so their labels stay out
 * of anything it is served with.
 *
 * Uses the usual AWS credential chain and region (--region overrides it); a missing region is named
 * before any call. Exit code 0 on success, 1 on failure, 2 on bad usage.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
  type FeatureValue,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import {
  SEGMENT_CTR_FEATURE_GROUP,
  USER_FEATURE_GROUP,
  segmentId,
  type FeatureGroupContract,
  type SegmentCtr,
  type UserFeatures,
} from '../../lib/designs/ad-click/contracts/online-features';
import { featureTypes } from '../../lib/platform/constructs/data/feature-definitions';
import { ARTIFACT_PREFIXES } from '../../lib/platform/constructs/ml/artifact-layout';
import { PROFILE_NAMES } from '../../lib/platform/config/profile';
import { withDeadline } from '../../lambda/platform/shared/deadline';
import { SDK_RETRY } from '../../lambda/platform/shared/sdk-retry';
import { awsHint, requireRegion } from '../support/aws';
import { lastLine, runCommand } from '../support/child-process';
import { Cli, EXIT, UsageError, integer, oneOf, runMain, text } from '../support/cli';
import { formatCount, Progress } from '../support/progress';

export { UsageError };

const ROOT = join(__dirname, '..', '..');
const SAGEMAKER = join(ROOT, 'sagemaker');
const PY = join(SAGEMAKER, 'bin', 'py');

/** The channel file of a split, as ad_click.generate writes it and the training job reads it. */
export const CHANNEL_FILE = 'data.csv';
export const CHANNEL_KEYS = {
  train: `${ARTIFACT_PREFIXES.trainChannel}${CHANNEL_FILE}`,
  validation: `${ARTIFACT_PREFIXES.validationChannel}${CHANNEL_FILE}`,
} as const;
export const OUTPUT_KEYS = {
  artifactsBucket: 'ArtifactsBucketName',
  userFeatures: 'UserFeaturesGroupName',
  segmentCtr: 'SegmentCtrGroupName',
  stateMachine: 'StateMachineArn',
} as const;

/**
 * Pseudo-impressions at the global click rate added to every segment's counts: a segment's CTR is
 * (clicks + m * global) / (impressions + m), so a segment seen a few times scores near the global
 * rate, and one seen thousands of times near its own (the same smoothing as `e2e:local`).
 */
export const SEGMENT_PRIOR_IMPRESSIONS = 100;
/** PutRecord calls in flight at once. */
export const PUT_CONCURRENCY = 16;
/** Deadline of one PutRecord, retries included. */
export const PUT_TIMEOUT_MS = 10_000;
/** Deadline of one channel upload (a 200,000-row channel is about 10 MB). */
export const UPLOAD_TIMEOUT_MS = 300_000;
/** Deadline of the other calls (DescribeStacks, StartExecution). */
export const CALL_TIMEOUT_MS = 30_000;

/**
 * Many PutRecord calls to two groups, throttling expected: the SDK's adaptive mode slows the client
 * down when throttled (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 */
export const FEATURE_STORE_RETRY = SDK_RETRY.adaptive(5);

export interface SeedOptions {
  profile: string;
  rows: number;
  seed: number;
  from?: string;
  startTraining: boolean;
  /** The region to call; undefined: the SDK's own (AWS_REGION, then the shared config file). */
  region?: string;
  /** No progress on stderr. */
  quiet: boolean;
}

/** The command line of `npm run ad-click:seed-sandbox`. */
export function seedCli(): Cli {
  return new Cli({
    name: 'ad-click:seed-sandbox',
    usage: 'npm run ad-click:seed-sandbox --',
    description:
      'Fills a deployed ad click sandbox: uploads generated (or --from) training channels to its artefacts ' +
      'bucket, writes user features and segment CTRs to its online feature groups, and with ' +
      '--start-training starts its training pipeline.',
    notes: [
      'Example:',
      '  AWS_REGION=us-east-1 npm run ad-click:seed-sandbox -- --rows 200000 --start-training',
      '',
      'Finds the bucket and feature groups from the outputs of AdClick-<profile>-data, the state machine',
      'from AdClick-<profile>-pipeline. Needs AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and',
      'AWS_SECRET_ACCESS_KEY). Generating needs sagemaker/bin/py (npm run test:setup makes it).',
    ].join('\n'),
  })
    .option('--profile <name>', 'profile the design was deployed with', oneOf(PROFILE_NAMES), 'sandbox')
    .option('--rows <count>', 'impressions to generate (all splits)', integer(10, 50_000_000), 200_000)
    .option('--seed <n>', 'seed of the generated data', integer(0, 2 ** 31), 1)
    .option(
      '--from <dir>',
      'upload this directory (from npm run ad-click:generate) instead of generating',
      text('a directory'),
      undefined,
      'generate into a temporary directory',
    )
    .regionOption()
    .flag('--start-training', 'start the training state machine once the data is in place')
    .quietFlag();
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseSeedArgs(argv: readonly string[]): SeedOptions {
  const values = seedCli().parse<{
    profile: string;
    rows: number;
    seed: number;
    from?: string;
    region?: string;
    startTraining: boolean;
    quiet: boolean;
  }>(argv, (v, problem) => {
    if (v.from === undefined) return;
    const missing = (['train', 'validation'] as const)
      .map((split) => join(split, CHANNEL_FILE))
      .filter((file) => !existsSync(join(v.from!, file)));
    if (missing.length > 0)
      problem(
        `--from ${v.from} has no ${missing.join(' nor ')}: expected a directory from npm run ad-click:generate`,
      );
  });
  return {
    profile: values.profile,
    rows: values.rows,
    seed: values.seed,
    from: values.from,
    startTraining: values.startTraining,
    quiet: values.quiet,
    ...(values.region ? { region: values.region } : {}),
  };
}

/** The CloudFormation names of the stacks, as lib/platform/stacks/naming.ts names them. */
export function stackNames(profile: string): { data: string; pipeline: string } {
  return { data: `AdClick-${profile}-data`, pipeline: `AdClick-${profile}-pipeline` };
}

export interface SandboxResources {
  artifactsBucket: string;
  userFeaturesGroup: string;
  segmentCtrGroup: string;
  stateMachineArn?: string;
}

async function stackOutputs(cfn: CloudFormationClient, stackName: string): Promise<Output[]> {
  try {
    const { Stacks } = await withDeadline(`DescribeStacks ${stackName}`, CALL_TIMEOUT_MS, (abortSignal) =>
      cfn.send(new DescribeStacksCommand({ StackName: stackName }), { abortSignal }),
    );
    return Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    if (/does not exist/i.test((error as Error).message ?? '')) {
      throw new Error(
        `stack ${stackName} not found: deploy the design first (npx cdk deploy -c design=ad-click ` +
          `-c profile=<profile> --all), with the same region and credentials`,
      );
    }
    throw error;
  }
}

/** Reads `wanted` outputs of a stack; one error names every missing output and the outputs found. */
function pick<K extends string>(
  stackName: string,
  outputs: Output[],
  wanted: readonly K[],
): Record<K, string> {
  const found = new Map(
    outputs.filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]),
  );
  const missing = wanted.filter((key) => !found.has(key));
  if (missing.length > 0) {
    throw new Error(
      `missing stack output(s) ${missing.join(', ')} in ${stackName}; outputs found: ` +
        `${[...found.keys()].sort().join(', ') || 'none'}. Redeploy the stack with these outputs.`,
    );
  }
  return Object.fromEntries(wanted.map((key) => [key, found.get(key)!])) as Record<K, string>;
}

/** The bucket, the feature groups and, when `needPipeline`, the training state machine. */
export async function findResources(
  cfn: CloudFormationClient,
  profile: string,
  needPipeline: boolean,
): Promise<SandboxResources> {
  const names = stackNames(profile);
  const data = pick(names.data, await stackOutputs(cfn, names.data), [
    OUTPUT_KEYS.artifactsBucket,
    OUTPUT_KEYS.userFeatures,
    OUTPUT_KEYS.segmentCtr,
  ]);
  const resources: SandboxResources = {
    artifactsBucket: data[OUTPUT_KEYS.artifactsBucket],
    userFeaturesGroup: data[OUTPUT_KEYS.userFeatures],
    segmentCtrGroup: data[OUTPUT_KEYS.segmentCtr],
  };
  if (needPipeline) {
    const pipeline = pick(names.pipeline, await stackOutputs(cfn, names.pipeline), [
      OUTPUT_KEYS.stateMachine,
    ]);
    resources.stateMachineArn = pipeline[OUTPUT_KEYS.stateMachine];
  }
  return resources;
}

/** The columns of a channel the features are made from. */
const FEATURE_COLUMNS = ['label', 'user_id', 'age_group', 'country', 'placement', 'ad_category'] as const;
type FeatureColumn = (typeof FEATURE_COLUMNS)[number];

/** A channel's rows, by the columns the features need. */
export interface Channel {
  readonly path: string;
  readonly rows: number;
  readonly columns: Readonly<Record<FeatureColumn, readonly string[]>>;
}

/**
 * Reads a channel CSV (ad_click/features.py: a header, then one impression per line; values hold no
 * comma or quote). A missing column, a short row or a label other than 0 or 1 is an error naming
 * the file and line.
 */
export function readChannel(path: string): Channel {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = (lines[0] ?? '').split(',');
  const missing = FEATURE_COLUMNS.filter((name) => !header.includes(name));
  if (missing.length > 0)
    throw new Error(`${path}: no column ${missing.join(', ')} (its header: ${lines[0] ?? 'none'})`);
  const at = FEATURE_COLUMNS.map((name) => header.indexOf(name));
  const columns = Object.fromEntries(FEATURE_COLUMNS.map((name) => [name, [] as string[]])) as Record<
    FeatureColumn,
    string[]
  >;
  for (let line = 1; line < lines.length; line++) {
    const cells = lines[line].split(',');
    if (cells.length !== header.length)
      throw new Error(`${path}:${line + 1}: ${cells.length} values, the header names ${header.length}`);
    FEATURE_COLUMNS.forEach((name, i) => columns[name].push(cells[at[i]]));
    const label = cells[at[0]];
    if (label !== '0' && label !== '1')
      throw new Error(`${path}:${line + 1}: label ${JSON.stringify(label)}, not 0 or 1`);
  }
  if (lines.length < 2) throw new Error(`${path}: no rows`);
  return { path, rows: lines.length - 1, columns };
}

/** One record per user of the rows; a user whose rows disagree on an attribute is an error. */
export function userRecords(channel: Channel, eventTime: string): UserFeatures[] {
  const { user_id: ids, age_group: ages, country: countries } = channel.columns;
  const users = new Map<string, UserFeatures>();
  for (let i = 0; i < channel.rows; i++) {
    const seen = users.get(ids[i]);
    if (!seen) {
      users.set(ids[i], {
        user_id: ids[i],
        age_group: ages[i],
        country: countries[i],
        event_time: eventTime,
      });
    } else if (seen.age_group !== ages[i] || seen.country !== countries[i]) {
      throw new Error(
        `${channel.path}:${i + 2}: user ${ids[i]} has age group ${ages[i]} and country ${countries[i]}, ` +
          `an earlier row ${seen.age_group} and ${seen.country}: a user has one of each`,
      );
    }
  }
  return [...users.values()];
}

/** The global click rate of the rows and one smoothed CTR record per placement and ad category. */
export function segmentRecords(
  channel: Channel,
  eventTime: string,
  prior = SEGMENT_PRIOR_IMPRESSIONS,
): { globalCtr: number; records: SegmentCtr[] } {
  const { label, placement, ad_category: category } = channel.columns;
  const counts = new Map<string, { impressions: number; clicks: number }>();
  let clicks = 0;
  for (let i = 0; i < channel.rows; i++) {
    const id = segmentId(placement[i], category[i]);
    const s = counts.get(id) ?? { impressions: 0, clicks: 0 };
    s.impressions++;
    if (label[i] === '1') {
      s.clicks++;
      clicks++;
    }
    counts.set(id, s);
  }
  const globalCtr = clicks / channel.rows;
  const records = [...counts].map(([id, s]) => ({
    segment_id: id,
    ctr: (s.clicks + prior * globalCtr) / (s.impressions + prior),
    impressions: s.impressions,
    event_time: eventTime,
  }));
  return { globalCtr, records };
}

/**
 * A record as PutRecord takes it, after checking it against its group's contract: every value as a
 * string, whatever its feature type
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_feature_store_FeatureValue.html).
 * A record that breaks the contract is an error naming it and every bad field.
 */
export function toFeatureValues<S extends z.ZodObject>(
  contract: FeatureGroupContract<S>,
  record: unknown,
): FeatureValue[] {
  const parsed = contract.schema.safeParse(record);
  if (!parsed.success) {
    const id = (record as Record<string, unknown> | undefined)?.[contract.recordIdentifier];
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`,
    );
    throw new Error(
      `${contract.recordIdentifier} ${JSON.stringify(id)} breaks its contract: ${problems.join('; ')}`,
    );
  }
  const values = parsed.data as Record<string, string | number>;
  return Object.keys(featureTypes(contract.schema)).map((name) => ({
    FeatureName: name,
    ValueAsString: String(values[name]),
  }));
}

/** PutRecord requests for one feature group. */
export interface RecordBatch {
  readonly featureGroupName: string;
  readonly records: readonly FeatureValue[][];
}

/**
 * Sends every record with PutRecord, `concurrency` at a time, each within `timeoutMs` (the client's
 * retries included). PutRecord writes the online store and, when the group has one, the offline
 * store (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_feature_store_PutRecord.html).
 * The first failure stops the workers and is thrown, naming the group.
 */
export async function putRecords(
  client: SageMakerFeatureStoreRuntimeClient,
  batches: readonly RecordBatch[],
  { concurrency = PUT_CONCURRENCY, timeoutMs = PUT_TIMEOUT_MS, onPut = () => undefined as void } = {},
): Promise<number> {
  const work = batches.flatMap((b) => b.records.map((record) => ({ group: b.featureGroupName, record })));
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < work.length) {
      const { group, record } = work[next++];
      try {
        await withDeadline(`PutRecord ${group}`, timeoutMs, (abortSignal) =>
          client.send(new PutRecordCommand({ FeatureGroupName: group, Record: record }), { abortSignal }),
        );
      } catch (error) {
        failed = true;
        const id = record[0]?.ValueAsString;
        throw new Error(`PutRecord to ${group} failed for ${id}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      onPut();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
  return work.length;
}

/** Uploads a channel file as one PutObject of its stream, under the bucket's default encryption. */
async function uploadChannel(s3: S3Client, bucket: string, key: string, path: string): Promise<number> {
  const bytes = statSync(path).size;
  const body = createReadStream(path);
  try {
    await withDeadline(`PutObject s3://${bucket}/${key}`, UPLOAD_TIMEOUT_MS, (abortSignal) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: bytes,
          ContentType: 'text/csv',
        }),
        { abortSignal },
      ),
    );
  } finally {
    // Closed before returning, so no open or read of the file outlives the call.
    await new Promise<void>((resolve) => {
      if (body.closed) return resolve();
      body.once('close', () => resolve());
      body.destroy();
    });
  }
  return bytes;
}

/** Runs ad_click.generate into `out`; its last line of output is the progress detail. */
async function generate(options: SeedOptions, out: string, onLine: (line: string) => void): Promise<void> {
  const args = [
    '-m',
    'ad_click.generate',
    '--out',
    out,
    '--rows',
    String(options.rows),
    '--seed',
    String(options.seed),
  ];
  if (!existsSync(PY)) throw new Error(`${PY} not found: run npm run test:setup, or pass --from DIR`);
  const { code, output } = await runCommand(PY, args, {
    cwd: SAGEMAKER,
    // One line per stage, never a bar: the output is read, not shown.
    env: { ...process.env, RECOMMENDER_PROGRESS: 'lines' },
    onOutput: (o) => onLine(lastLine(o)),
  });
  if (code !== 0) throw new Error(`ad_click.generate failed (exit ${code}):\n${output.slice(-4000)}`);
}

/** The command that starts the training pipeline of this deployment. */
export function trainCommand(options: Pick<SeedOptions, 'profile' | 'region'>): string {
  const region = options.region ? ` --region ${options.region}` : '';
  return `npm run train -- --design ad-click --profile ${options.profile}${region}`;
}

export interface SeedClients {
  cfn: CloudFormationClient;
  s3: S3Client;
  featureStore: SageMakerFeatureStoreRuntimeClient;
  sfn: SFNClient;
}

export interface SeedIo {
  /** The lines a log keeps (stdout). */
  log: (line: string) => void;
  /** Where the long steps show their progress (stderr). */
  progress: Progress;
  /** The event time of the records. @default - now, to the second */
  now?: () => Date;
}

export interface SeedReport {
  resources: SandboxResources;
  uploaded: { key: string; bytes: number; rows: number }[];
  users: number;
  segments: number;
  globalCtr: number;
  executionArn?: string;
}

export async function seedSandbox(
  options: SeedOptions,
  clients: SeedClients,
  io: SeedIo,
): Promise<SeedReport> {
  const { progress } = io;
  const log = (line: string) => progress.around(() => io.log(line));
  const resources = await findResources(clients.cfn, options.profile, options.startTraining);
  log(
    `artefacts bucket: ${resources.artifactsBucket}; feature groups: ${resources.userFeaturesGroup}, ` +
      `${resources.segmentCtrGroup}`,
  );

  let dataDir = options.from;
  let temp: string | undefined;
  if (!dataDir) {
    temp = dataDir = mkdtempSync(join(tmpdir(), 'ad-click-seed-'));
    const out = dataDir;
    let says = '';
    await progress.track(
      'generate',
      { detail: () => says },
      () => generate(options, out, (line) => (says = line)),
      () => `${formatCount(options.rows, 'rows')}, seed ${options.seed}`,
    );
  }
  try {
    const paths = {
      train: join(dataDir, 'train', CHANNEL_FILE),
      validation: join(dataDir, 'validation', CHANNEL_FILE),
    };
    const train = readChannel(paths.train);
    const validation = readChannel(paths.validation);
    // Feature Store event times are to the second or millisecond; one time for the whole run.
    const eventTime = (io.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const users = userRecords(train, eventTime);
    const segments = segmentRecords(train, eventTime);
    // Every record is checked before the first is sent: bad data writes nothing.
    const batches: RecordBatch[] = [
      {
        featureGroupName: resources.userFeaturesGroup,
        records: users.map((r) => toFeatureValues(USER_FEATURE_GROUP, r)),
      },
      {
        featureGroupName: resources.segmentCtrGroup,
        records: segments.records.map((r) => toFeatureValues(SEGMENT_CTR_FEATURE_GROUP, r)),
      },
    ];
    log(
      `${formatCount(train.rows, 'train rows')}, ${formatCount(validation.rows, 'validation rows')}: ` +
        `${users.length} users, ${segments.records.length} segments, global CTR ${segments.globalCtr.toFixed(5)}`,
    );

    const uploaded: SeedReport['uploaded'] = [];
    const channels = [
      { key: CHANNEL_KEYS.train, path: paths.train, rows: train.rows },
      { key: CHANNEL_KEYS.validation, path: paths.validation, rows: validation.rows },
    ];
    const total = channels.reduce((sum, c) => sum + statSync(c.path).size, 0);
    await progress.track(
      'upload',
      { total, unit: 'bytes' },
      async (stage) => {
        for (const channel of channels) {
          const bytes = await uploadChannel(clients.s3, resources.artifactsBucket, channel.key, channel.path);
          uploaded.push({ key: channel.key, bytes, rows: channel.rows });
          stage.add(bytes);
        }
      },
      () => `${channels.length} channels, ${formatCount(total, 'bytes')}`,
    );
    log(`wrote s3://${resources.artifactsBucket}/${CHANNEL_KEYS.train} and ${CHANNEL_KEYS.validation}`);

    const count = users.length + segments.records.length;
    await progress.track(
      'online features',
      { total: count, unit: 'records' },
      (stage) => putRecords(clients.featureStore, batches, { onPut: () => stage.add() }),
      () => `${users.length} users, ${segments.records.length} segments`,
    );
    log(
      `wrote ${users.length} records to ${resources.userFeaturesGroup}, ${segments.records.length} to ${resources.segmentCtrGroup}`,
    );

    const report: SeedReport = {
      resources,
      uploaded,
      users: users.length,
      segments: segments.records.length,
      globalCtr: segments.globalCtr,
    };
    if (options.startTraining) {
      const { executionArn } = await withDeadline('StartExecution', CALL_TIMEOUT_MS, (abortSignal) =>
        clients.sfn.send(new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn }), {
          abortSignal,
        }),
      );
      report.executionArn = executionArn;
      log(`training started: ${executionArn}`);
    } else {
      log(`to train on it: ${trainCommand(options)}`);
    }
    return report;
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runMain(
    'ad-click:seed-sandbox',
    async () => {
      const options = parseSeedArgs(process.argv.slice(2));
      const config = options.region ? { region: options.region } : {};
      const clients: SeedClients = {
        cfn: new CloudFormationClient(config),
        s3: new S3Client(config),
        featureStore: new SageMakerFeatureStoreRuntimeClient({ ...config, ...FEATURE_STORE_RETRY }),
        sfn: new SFNClient(config),
      };
      console.log(`region: ${await requireRegion(clients.cfn)}`);
      await seedSandbox(options, clients, {
        log: (line) => console.log(line),
        progress: new Progress({ quiet: options.quiet }),
      });
      return EXIT.ok;
    },
    awsHint,
  );
}
