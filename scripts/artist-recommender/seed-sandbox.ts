/**
 * `npm run data:seed-sandbox`: fills a deployed sandbox with sample data and (optionally) runs the ETL.
 *
 *   npm run data:seed-sandbox -- [--profile sandbox] [--users 1000 --days 7 --seed 1 | --from DIR]
 *                                [--run-etl] [--poll-seconds 15] [--region R]
 *
 * 1. Generates data (./generate-data.ts) into a temp directory, or takes an existing one (--from, as
 *    `npm run data:generate` writes it).
 * 2. Finds the deployed resources from the stack outputs of `ArtistRecommender-<profile>-data`
 *    (then `-etl`): RawEventsBucketName, AccountsImportFunctionName and, for --run-etl,
 *    EtlStateMachineArn.
 * 3. Uploads every raw object to `s3://<raw bucket>/raw/...` keeping its partition path, and the
 *    accounts CSV to `accounts/accounts.csv`.
 * 4. Invokes the accounts-import function on the CSV (needs @aws-sdk/client-lambda; without it the
 *    equivalent `aws lambda invoke` command is printed instead).
 * 5. With --run-etl, starts the ETL state machine once per generated day (`{ "day": "YYYY-MM-DD" }`),
 *    in order, each after the previous one succeeded, so the last run's snapshot holds every day.
 *
 * Progress (generation, upload, ETL runs) goes to stderr as scripts/support/progress.ts shows it:
 * a bar on a terminal, a line per stage otherwise or when CI is set, nothing with --quiet.
 *
 * Uses the usual AWS credential chain and region (--region overrides it); a missing region is named
 * before any call. Exit code 0 on success, 1 on failure, 2 on bad usage.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { awsHint, requireRegion } from '../support/aws';
import { Cli, EXIT, UsageError, decimal, integer, matching, runMain, text } from '../support/cli';
import { formatCount, Progress } from '../support/progress';

export const RAW_PREFIX = 'raw/';
export const ACCOUNTS_KEY = 'accounts/accounts.csv';
export const OUTPUT_KEYS = {
  rawBucket: 'RawEventsBucketName',
  accountsImport: 'AccountsImportFunctionName',
  etl: 'EtlStateMachineArn',
} as const;

export { UsageError };

export interface SeedOptions {
  profile: string;
  users: number;
  days: number;
  seed: number;
  from?: string;
  runEtl: boolean;
  pollMs: number;
  /** The region to call; undefined: the SDK's own (AWS_REGION, then the shared config file). */
  region?: string;
  /** No progress on stderr. */
  quiet: boolean;
}

/** The command line of `npm run data:seed-sandbox`. */
export function seedCli(): Cli {
  return new Cli({
    name: 'data:seed-sandbox',
    usage: 'npm run data:seed-sandbox --',
    description:
      'Fills a deployed sandbox with sample data: uploads generated (or --from) events and accounts to its raw ' +
      'bucket, imports the accounts, and with --run-etl runs the ETL once per day.',
    notes: [
      'Example:',
      '  AWS_REGION=us-east-1 npm run data:seed-sandbox -- --users 1000 --days 7 --run-etl',
      '',
      'Finds the bucket, function and state machine from the outputs of ArtistRecommender-<profile>-data',
      'and -etl. Needs AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).',
    ].join('\n'),
  })
    .option(
      '--profile <name>',
      'profile the stacks were deployed with',
      matching(/^[a-z][a-z0-9-]{0,30}$/, 'a profile name such as sandbox'),
      'sandbox',
    )
    .option('--users <count>', 'users to generate', integer(1, 10_000_000), 1000)
    .option('--days <count>', 'days of events to generate', integer(1, 366), 7)
    .option('--seed <n>', 'seed of the generated data', integer(0, 2 ** 31), 1)
    .option(
      '--from <dir>',
      'upload this directory (from npm run data:generate) instead of generating',
      text('a directory'),
      undefined,
      'generate into a temporary directory',
    )
    .regionOption()
    .flag('--run-etl', 'run the ETL state machine once per generated day, in order')
    .option(
      '--poll-seconds <seconds>',
      'seconds between checks of an ETL run',
      decimal(0, 3600, { exclusiveMin: true }),
      15,
    )
    .quietFlag();
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parseSeedArgs(argv: readonly string[]): SeedOptions {
  const values = seedCli().parse<{
    profile: string;
    users: number;
    days: number;
    seed: number;
    from?: string;
    region?: string;
    runEtl?: boolean;
    pollSeconds: number;
    quiet: boolean;
  }>(argv, (v, problem) => {
    if (v.from !== undefined && !existsSync(join(v.from, 'accounts.csv')))
      problem(`--from ${v.from} has no accounts.csv: expected a directory from npm run data:generate`);
  });
  return {
    profile: values.profile,
    users: values.users,
    days: values.days,
    seed: values.seed,
    from: values.from,
    runEtl: values.runEtl ?? false,
    pollMs: values.pollSeconds * 1000,
    quiet: values.quiet,
    ...(values.region ? { region: values.region } : {}),
  };
}

/** The stacks whose outputs are searched, in order. */
export function stackNames(profile: string): string[] {
  return [`ArtistRecommender-${profile}-data`, `ArtistRecommender-${profile}-etl`];
}

export interface SandboxResources {
  rawBucket: string;
  accountsImportFunction: string;
  etlStateMachineArn?: string;
}

async function stackOutputs(cfn: CloudFormationClient, stackName: string): Promise<Output[] | undefined> {
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    if (/does not exist/i.test((error as Error).message ?? '')) return undefined;
    throw error;
  }
}

/**
 * Reads the outputs the seeding needs. A missing stack or output is an error that names it, and
 * says which stacks were looked at, so the fix (deploy, or update the stack) is obvious.
 */
export async function findResources(
  cfn: CloudFormationClient,
  profile: string,
  needEtl: boolean,
): Promise<SandboxResources> {
  const names = stackNames(profile);
  const found: Record<string, string> = {};
  const missingStacks: string[] = [];
  for (const name of names) {
    const outputs = await stackOutputs(cfn, name);
    if (!outputs) {
      missingStacks.push(name);
      continue;
    }
    for (const output of outputs) {
      if (output.OutputKey && output.OutputValue && !(output.OutputKey in found))
        found[output.OutputKey] = output.OutputValue;
    }
  }
  if (missingStacks.length === names.length) {
    throw new Error(
      `stack ${names[0]} not found (nor ${names.slice(1).join(', ')}): deploy the ${profile} profile first ` +
        `(npx cdk deploy -c profile=${profile} --all), with the same region and credentials`,
    );
  }
  const wanted: string[] = [OUTPUT_KEYS.rawBucket, OUTPUT_KEYS.accountsImport];
  if (needEtl) wanted.push(OUTPUT_KEYS.etl);
  const missing = wanted.filter((key) => !found[key]);
  if (missing.length > 0) {
    const looked = names.filter((n) => !missingStacks.includes(n)).join(', ');
    throw new Error(
      `missing stack output(s) ${missing.join(', ')} in ${looked}` +
        `${missingStacks.length > 0 ? ` (${missingStacks.join(', ')} not deployed)` : ''}; ` +
        `outputs found: ${Object.keys(found).sort().join(', ') || 'none'}. Redeploy the stacks with these outputs.`,
    );
  }
  return {
    rawBucket: found[OUTPUT_KEYS.rawBucket],
    accountsImportFunction: found[OUTPUT_KEYS.accountsImport],
    etlStateMachineArn: found[OUTPUT_KEYS.etl],
  };
}

export interface UploadFile {
  path: string;
  key: string;
  bytes: number;
}

/** The raw objects (keys keep their `raw/YYYY/MM/DD/HH/` partition path) and the accounts CSV. */
export function filesToUpload(dataDir: string): UploadFile[] {
  const files: UploadFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (name.endsWith('.gz'))
        files.push({
          path,
          key: RAW_PREFIX + relative(join(dataDir, 'raw'), path).split(sep).join('/'),
          bytes: stat.size,
        });
    }
  };
  if (existsSync(join(dataDir, 'raw'))) walk(join(dataDir, 'raw'));
  const accounts = join(dataDir, 'accounts.csv');
  files.push({ path: accounts, key: ACCOUNTS_KEY, bytes: statSync(accounts).size });
  return files;
}

/** Uploads the files, a few at a time, each as one PutObject of its stream. */
export async function uploadFiles(
  s3: S3Client,
  bucket: string,
  files: UploadFile[],
  onUploaded: (file: UploadFile) => void = () => undefined,
  concurrency = 8,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: file.key,
          Body: createReadStream(file.path),
          ContentLength: file.bytes,
          ContentType: file.key.endsWith('.csv') ? 'text/csv' : 'application/x-ndjson',
          ContentEncoding: file.key.endsWith('.gz') ? 'gzip' : undefined,
        }),
      );
      onUploaded(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

/** What was written to the bucket, as one line: the accounts CSV and the span of raw objects. */
export function describeUpload(bucket: string, files: readonly UploadFile[]): string {
  const raw = files.filter((f) => f.key.startsWith(RAW_PREFIX)).map((f) => f.key);
  const others = files.filter((f) => !f.key.startsWith(RAW_PREFIX)).map((f) => f.key);
  const span = raw.length > 1 ? [`${raw[0]} .. ${raw[raw.length - 1]} (${raw.length} raw objects)`] : raw;
  return `wrote ${files.length} objects to s3://${bucket}/: ${[...others, ...span].join(', ')}`;
}

/** Invokes a function synchronously and returns its decoded result; a function error throws. */
export type Invoker = (functionName: string, payload: unknown) => Promise<unknown>;

/**
 * An invoker backed by @aws-sdk/client-lambda, or undefined when that package is not installed
 * (it is loaded at run time so the script still uploads without it).
 */
export function lambdaInvoker(
  load: (name: string) => unknown = require,
  config: { region?: string } = {},
): Invoker | undefined {
  let sdk: {
    LambdaClient: new (config: object) => { send(command: unknown): Promise<Record<string, unknown>> };
    InvokeCommand: new (input: object) => unknown;
  };
  try {
    sdk = load('@aws-sdk/client-lambda') as typeof sdk;
  } catch {
    return undefined;
  }
  const client = new sdk.LambdaClient(config);
  return async (functionName, payload) => {
    const out = await client.send(
      new sdk.InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    const text = out.Payload ? Buffer.from(out.Payload as Uint8Array).toString('utf8') : '';
    if (out.FunctionError) throw new Error(`${functionName} failed (${String(out.FunctionError)}): ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** The days of a generated data set, from its raw partitions (`raw/YYYY/MM/DD/...`). */
export function daysOf(files: UploadFile[]): string[] {
  const days = new Set<string>();
  for (const file of files) {
    const m = /^raw\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(file.key);
    if (m) days.add(`${m[1]}-${m[2]}-${m[3]}`);
  }
  return [...days].sort();
}

export interface SeedClients {
  cfn: CloudFormationClient;
  s3: S3Client;
  sfn: SFNClient;
  invoke?: Invoker;
  sleep?: (ms: number) => Promise<void>;
}

export interface SeedIo {
  /** The lines a log keeps (stdout). */
  log: (line: string) => void;
  /** Where the long steps show their progress (stderr). */
  progress: Progress;
}

export interface SeedReport {
  resources: SandboxResources;
  uploaded: { files: number; bytes: number };
  accountsImport?: unknown;
  etl: { day: string; executionArn: string; status: string }[];
}

export async function seedSandbox(
  options: SeedOptions,
  clients: SeedClients,
  io: SeedIo,
): Promise<SeedReport> {
  const { progress } = io;
  // A line printed while a bar is drawn goes above it.
  const log = (line: string) => progress.around(() => io.log(line));
  const resources = await findResources(clients.cfn, options.profile, options.runEtl);
  log(`raw bucket: ${resources.rawBucket}; accounts import: ${resources.accountsImportFunction}`);

  let dataDir = options.from;
  let temp: string | undefined;
  if (!dataDir) {
    const { generateData, maxFiles } = await import('./generate-data');
    temp = dataDir = mkdtempSync(join(tmpdir(), 'seed-sandbox-'));
    const out = dataDir;
    const summary = await progress.track(
      'generate',
      { total: maxFiles(options.days), unit: 'files' },
      (stage) =>
        generateData({
          users: options.users,
          days: options.days,
          out,
          seed: options.seed,
          onWrite: () => stage.add(),
        }),
      (s) => `${s.files + 2} files, ${formatCount(s.bytes.gzip, 'bytes')} of events`,
    );
    log(`generated ${summary.accounts} accounts, ${summary.files} objects, ${summary.lines} lines`);
  }
  try {
    const files = filesToUpload(dataDir);
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    log(`uploading ${files.length} files (${formatCount(bytes, 'bytes')}) to s3://${resources.rawBucket}/`);
    let sent = 0;
    await progress.track(
      'upload',
      { total: bytes, unit: 'bytes', detail: () => `${sent}/${files.length} files` },
      (stage) =>
        uploadFiles(clients.s3, resources.rawBucket, files, (file) => {
          sent++;
          stage.add(file.bytes);
        }),
      () => `${files.length} files, ${formatCount(bytes, 'bytes')}`,
    );
    const report: SeedReport = { resources, uploaded: { files: files.length, bytes }, etl: [] };
    log(describeUpload(resources.rawBucket, files));

    const payload = { bucket: resources.rawBucket, key: ACCOUNTS_KEY };
    const invoke = clients.invoke;
    if (invoke) {
      report.accountsImport = await progress.track(
        'accounts import',
        {},
        () => invoke(resources.accountsImportFunction, payload),
        () => `${resources.accountsImportFunction} answered`,
      );
      log(`accounts import: ${JSON.stringify(report.accountsImport)}`);
    } else {
      log(
        'accounts import NOT invoked: @aws-sdk/client-lambda is not installed. Run:\n' +
          `  aws lambda invoke --function-name ${resources.accountsImportFunction} --cli-binary-format raw-in-base64-out ` +
          `--payload '${JSON.stringify(payload)}' /dev/stdout`,
      );
    }

    if (options.runEtl) {
      const sleep =
        clients.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
      const days = daysOf(files);
      await progress.track(
        'ETL runs',
        { total: days.length, unit: 'days' },
        async (stage) => {
          for (const day of days) {
            const { executionArn } = await clients.sfn.send(
              new StartExecutionCommand({
                stateMachineArn: resources.etlStateMachineArn,
                name: `seed-${day}-${Date.now()}`,
                input: JSON.stringify({ day }),
              }),
            );
            log(`ETL ${day}: started ${executionArn}`);
            let status = 'RUNNING';
            while (status === 'RUNNING') {
              await sleep(options.pollMs);
              const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
              status = described.status ?? 'UNKNOWN';
              if (status !== 'RUNNING' && status !== 'SUCCEEDED') {
                throw new Error(
                  `ETL for ${day} ended ${status}: ${described.error ?? ''} ${described.cause ?? ''} (${executionArn})`,
                );
              }
            }
            log(`ETL ${day}: ${status}`);
            report.etl.push({ day, executionArn: executionArn ?? '', status });
            stage.add();
          }
        },
        () => `${days.length} days succeeded`,
      );
    }
    return report;
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runMain(
    'data:seed-sandbox',
    async () => {
      const options = parseSeedArgs(process.argv.slice(2));
      const config = options.region ? { region: options.region } : {};
      const clients = {
        cfn: new CloudFormationClient(config),
        s3: new S3Client(config),
        sfn: new SFNClient(config),
      };
      const resolved = await requireRegion(clients.cfn);
      console.log(`region: ${resolved}`);
      await seedSandbox(
        options,
        { ...clients, invoke: lambdaInvoker(require, { region: resolved }) },
        { log: (line) => console.log(line), progress: new Progress({ quiet: options.quiet }) },
      );
      return EXIT.ok;
    },
    awsHint,
  );
}
