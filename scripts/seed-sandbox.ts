/**
 * `npm run data:seed-sandbox`: fills a deployed sandbox with sample data and (optionally) runs the ETL.
 *
 *   npm run data:seed-sandbox -- [--profile sandbox] [--users 1000 --days 7 --seed 1 | --from DIR]
 *                                [--run-etl] [--poll-seconds 15]
 *
 * 1. Generates data (scripts/generate-data.ts) into a temp directory, or takes an existing one
 *    (--from, as `npm run data:generate` writes it).
 * 2. Finds the deployed resources from the stack outputs of `ArtistRecommender-<profile>-data`
 *    (then `-etl`): RawEventsBucketName, AccountsImportFunctionName and, for --run-etl,
 *    EtlStateMachineArn.
 * 3. Uploads every raw object to `s3://<raw bucket>/raw/...` keeping its partition path, and the
 *    accounts CSV to `accounts/accounts.csv`, with a progress bar (bytes and files) on stderr.
 * 4. Invokes the accounts-import function on the CSV (needs @aws-sdk/client-lambda; without it the
 *    equivalent `aws lambda invoke` command is printed instead).
 * 5. With --run-etl, starts the ETL state machine once per generated day (`{ "day": "YYYY-MM-DD" }`),
 *    in order, each after the previous one succeeded, so the last run's snapshot holds every day.
 *
 * Uses the usual AWS credential chain and region. Exit code 0 on success, 1 on failure, 2 on bad
 * arguments.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';

export const RAW_PREFIX = 'raw/';
export const ACCOUNTS_KEY = 'accounts/accounts.csv';
export const OUTPUT_KEYS = {
  rawBucket: 'RawEventsBucketName',
  accountsImport: 'AccountsImportFunctionName',
  etl: 'EtlStateMachineArn',
} as const;

export class UsageError extends Error {}

export interface SeedOptions {
  profile: string;
  users: number;
  days: number;
  seed: number;
  from?: string;
  runEtl: boolean;
  pollMs: number;
}

export function parseSeedArgs(argv: string[]): SeedOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', default: 'sandbox' },
      users: { type: 'string', default: '1000' },
      days: { type: 'string', default: '7' },
      seed: { type: 'string', default: '1' },
      from: { type: 'string' },
      'run-etl': { type: 'boolean', default: false },
      'poll-seconds': { type: 'string', default: '15' },
    },
  });
  const problems: string[] = [];
  const integer = (name: 'users' | 'days' | 'seed', min: number, max: number): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`--${name} must be an integer in [${min}, ${max}]`);
    return value;
  };
  const options: SeedOptions = {
    profile: values.profile!,
    users: integer('users', 1, 10_000_000),
    days: integer('days', 1, 366),
    seed: integer('seed', 0, 2 ** 31),
    from: values.from,
    runEtl: values['run-etl'] ?? false,
    pollMs: Number(values['poll-seconds']) * 1000,
  };
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(options.profile)) problems.push('--profile must be a profile name');
  if (!(options.pollMs > 0)) problems.push('--poll-seconds must be a positive number');
  if (options.from !== undefined && !existsSync(join(options.from, 'accounts.csv')))
    problems.push(
      `--from ${options.from} has no accounts.csv: expected a directory from npm run data:generate`,
    );
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return options;
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

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A plain-text progress bar: redrawn in place on a terminal, one line per tenth otherwise (logs
 * and CI keep a readable record).
 */
export class Progress {
  private bytes = 0;
  private files = 0;
  private lastTenth = -1;

  constructor(
    private readonly totalBytes: number,
    private readonly totalFiles: number,
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
  ) {}

  line(): string {
    const share = this.totalBytes > 0 ? this.bytes / this.totalBytes : 1;
    const filled = Math.round(share * 30);
    return (
      `[${'#'.repeat(filled)}${'-'.repeat(30 - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ` +
      `${megabytes(this.bytes)} / ${megabytes(this.totalBytes)}, ${this.files} / ${this.totalFiles} files`
    );
  }

  add(bytes: number): void {
    this.bytes += bytes;
    this.files++;
    if (this.tty) {
      this.write(`\r${this.line()}${this.files === this.totalFiles ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor((this.totalBytes > 0 ? this.bytes / this.totalBytes : 1) * 10);
    if (tenth > this.lastTenth || this.files === this.totalFiles) {
      this.lastTenth = tenth;
      this.write(`${this.line()}\n`);
    }
  }
}

/** Uploads the files, a few at a time, each as one PutObject of its stream. */
export async function uploadFiles(
  s3: S3Client,
  bucket: string,
  files: UploadFile[],
  progress: Progress,
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
      progress.add(file.bytes);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

/** Invokes a function synchronously and returns its decoded result; a function error throws. */
export type Invoker = (functionName: string, payload: unknown) => Promise<unknown>;

/**
 * An invoker backed by @aws-sdk/client-lambda, or undefined when that package is not installed
 * (it is loaded at run time so the script still uploads without it).
 */
export function lambdaInvoker(load: (name: string) => unknown = require): Invoker | undefined {
  let sdk: {
    LambdaClient: new (config: object) => { send(command: unknown): Promise<Record<string, unknown>> };
    InvokeCommand: new (input: object) => unknown;
  };
  try {
    sdk = load('@aws-sdk/client-lambda') as typeof sdk;
  } catch {
    return undefined;
  }
  const client = new sdk.LambdaClient({});
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
  log: (line: string) => void;
  progress: (text: string) => void;
  tty: boolean;
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
  const resources = await findResources(clients.cfn, options.profile, options.runEtl);
  io.log(`raw bucket: ${resources.rawBucket}; accounts import: ${resources.accountsImportFunction}`);

  let dataDir = options.from;
  let temp: string | undefined;
  if (!dataDir) {
    const { generateData } = await import('./generate-data');
    temp = dataDir = mkdtempSync(join(tmpdir(), 'seed-sandbox-'));
    const summary = generateData({
      users: options.users,
      days: options.days,
      out: dataDir,
      seed: options.seed,
    });
    io.log(`generated ${summary.accounts} accounts, ${summary.files} objects, ${summary.lines} lines`);
  }
  try {
    const files = filesToUpload(dataDir);
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    io.log(`uploading ${files.length} files (${megabytes(bytes)}) to s3://${resources.rawBucket}/`);
    await uploadFiles(
      clients.s3,
      resources.rawBucket,
      files,
      new Progress(bytes, files.length, io.progress, io.tty),
    );
    const report: SeedReport = { resources, uploaded: { files: files.length, bytes }, etl: [] };

    const payload = { bucket: resources.rawBucket, key: ACCOUNTS_KEY };
    if (clients.invoke) {
      report.accountsImport = await clients.invoke(resources.accountsImportFunction, payload);
      io.log(`accounts import: ${JSON.stringify(report.accountsImport)}`);
    } else {
      io.log(
        'accounts import NOT invoked: @aws-sdk/client-lambda is not installed. Run:\n' +
          `  aws lambda invoke --function-name ${resources.accountsImportFunction} --cli-binary-format raw-in-base64-out ` +
          `--payload '${JSON.stringify(payload)}' /dev/stdout`,
      );
    }

    if (options.runEtl) {
      const sleep =
        clients.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
      for (const day of daysOf(files)) {
        const { executionArn } = await clients.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: resources.etlStateMachineArn,
            name: `seed-${day}-${Date.now()}`,
            input: JSON.stringify({ day }),
          }),
        );
        io.log(`ETL ${day}: started ${executionArn}`);
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
        io.log(`ETL ${day}: ${status}`);
        report.etl.push({ day, executionArn: executionArn ?? '', status });
      }
    }
    return report;
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  let options: SeedOptions;
  try {
    options = parseSeedArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`seed-sandbox: ${(error as Error).message}`);
    process.exit(2);
  }
  seedSandbox(
    options,
    {
      cfn: new CloudFormationClient({}),
      s3: new S3Client({}),
      sfn: new SFNClient({}),
      invoke: lambdaInvoker(),
    },
    {
      log: (line) => console.log(line),
      progress: (text) => process.stderr.write(text),
      tty: Boolean(process.stderr.isTTY),
    },
  ).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`seed-sandbox: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
