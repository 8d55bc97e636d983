import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { apiCheckedMockClient } from '../../../support/aws-api-model/mock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { generateData } from '../../../../scripts/artist-recommender/generate-data';
import { Progress } from '../../../../scripts/support/progress';
import {
  daysOf,
  filesToUpload,
  findResources,
  lambdaInvoker,
  parseSeedArgs,
  seedSandbox,
  UsageError,
  type SeedIo,
} from '../../../../scripts/artist-recommender/seed-sandbox';

const cfnMock = apiCheckedMockClient(CloudFormationClient);
const s3Mock = apiCheckedMockClient(S3Client);
const sfnMock = apiCheckedMockClient(SFNClient);
const clients = {
  cfn: new CloudFormationClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
};
let data: string;
const DATA_OUTPUTS = [
  { OutputKey: 'RawEventsBucketName', OutputValue: 'raw-bucket' },
  { OutputKey: 'AccountsImportFunctionName', OutputValue: 'accounts-import-fn' },
];
const ETL_OUTPUTS = [
  { OutputKey: 'EtlStateMachineArn', OutputValue: 'arn:aws:states:us-east-1:1:stateMachine:etl' },
];

function stacks(outputs: Record<string, typeof DATA_OUTPUTS | undefined>): void {
  cfnMock.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const found = outputs[input.StackName];
    if (!found) throw new Error(`Stack with id ${input.StackName} does not exist`);
    return { Stacks: [{ StackName: input.StackName, Outputs: found }] };
  });
}

/** The log's lines, and what the progress wrote: plain lines, or a bar with `tty`. */
function io({ tty = false } = {}): SeedIo & { lines: string[]; stderr: () => string } {
  const lines: string[] = [];
  const written: string[] = [];
  const stream = { write: (text: string) => written.push(text), columns: 120 };
  return {
    lines,
    stderr: () => written.join(''),
    log: (l) => lines.push(l),
    progress: new Progress({ stream, tty, env: {} }),
  };
}

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), 'seed-'));
  generateData({ users: 30, days: 2, out: data, seed: 2 });
});
afterAll(() => {
  rmSync(data, { recursive: true, force: true });
  cfnMock.restore();
  s3Mock.restore();
  sfnMock.restore();
});
// The mock never reads the file streams it is given: close them before their files go.
afterEach(async () => {
  const bodies = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Body as Readable);
  await Promise.all(
    bodies.map((body) => new Promise((resolve) => (body.once('close', resolve), body.destroy()))),
  );
});
beforeEach(() => {
  cfnMock.reset();
  s3Mock.reset();
  sfnMock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
});

const options = (extra: Partial<ReturnType<typeof parseSeedArgs>> = {}) => ({
  ...parseSeedArgs(['--from', data]),
  ...extra,
});

describe('seed-sandbox', () => {
  it('uploads raw objects under their partition paths and the accounts CSV, then invokes the import', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': DATA_OUTPUTS });
    const invoked: [string, unknown][] = [];
    const out = io();
    const report = await seedSandbox(
      options(),
      {
        ...clients,
        invoke: async (name, payload) => {
          invoked.push([name, payload]);
          return { rows: 30, upserted: 30, badLines: 0, badLineSamples: [] };
        },
      },
      out,
    );
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const files = filesToUpload(data);
    expect(puts.map((p) => p.Key).sort()).toEqual(files.map((f) => f.key).sort());
    for (const put of puts) {
      expect(put.Bucket).toBe('raw-bucket');
      expect(put.Key).toMatch(
        /^(raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/(events|recommendations)-[\d-]+\.gz|accounts\/accounts\.csv)$/,
      );
      expect(put.ContentLength).toBe(files.find((f) => f.key === put.Key)?.bytes);
    }
    expect(puts.filter((p) => p.Key === 'accounts/accounts.csv')).toHaveLength(1);
    expect(report.uploaded.files).toBe(files.length);
    expect(invoked).toEqual([['accounts-import-fn', { bucket: 'raw-bucket', key: 'accounts/accounts.csv' }]]);
    expect(out.lines.join('\n')).toMatch(/accounts import: \{"rows":30/);
    const raw = files.filter((f) => f.key.startsWith('raw/')).map((f) => f.key);
    expect(out.lines).toContain(
      `wrote ${files.length} objects to s3://raw-bucket/: accounts/accounts.csv, ${raw[0]} .. ${raw.at(-1)} ` +
        `(${raw.length} raw objects)`,
    );
    // Without a terminal: one line per stage, when it ends.
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    expect(out.stderr()).toMatch(
      new RegExp(
        `^upload: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB \\([\\d.]+ s[^)]*\\)\n` +
          `accounts import: accounts-import-fn answered \\([\\d.]+ s\\)\n$`,
      ),
    );
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('reports the command to run when the Lambda client is not installed', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': DATA_OUTPUTS });
    const out = io();
    const report = await seedSandbox(options(), clients, out);
    expect(report.accountsImport).toBeUndefined();
    expect(out.lines.join('\n')).toContain(
      'accounts import NOT invoked: @aws-sdk/client-lambda is not installed',
    );
    expect(out.lines.join('\n')).toContain('aws lambda invoke --function-name accounts-import-fn');
  });

  it('names a missing stack output and the outputs it found, before uploading anything', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': [DATA_OUTPUTS[0]] });
    await expect(seedSandbox(options(), clients, io())).rejects.toThrow(
      'missing stack output(s) AccountsImportFunctionName in ArtistRecommender-sandbox-data ' +
        '(ArtistRecommender-sandbox-etl not deployed); outputs found: RawEventsBucketName',
    );
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('names the stack when none is deployed', async () => {
    stacks({});
    await expect(findResources(clients.cfn, 'sandbox', false)).rejects.toThrow(
      /stack ArtistRecommender-sandbox-data not found \(nor ArtistRecommender-sandbox-etl\): deploy the sandbox profile/,
    );
  });

  it('needs the ETL state machine only with --run-etl, and finds it in the etl stack', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': DATA_OUTPUTS });
    await expect(findResources(clients.cfn, 'sandbox', true)).rejects.toThrow(/EtlStateMachineArn/);
    stacks({ 'ArtistRecommender-sandbox-data': DATA_OUTPUTS, 'ArtistRecommender-sandbox-etl': ETL_OUTPUTS });
    expect(await findResources(clients.cfn, 'sandbox', true)).toEqual({
      rawBucket: 'raw-bucket',
      accountsImportFunction: 'accounts-import-fn',
      etlStateMachineArn: ETL_OUTPUTS[0].OutputValue,
    });
  });

  it('runs the ETL once per day, in order, each after the previous one succeeded', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': [...DATA_OUTPUTS, ...ETL_OUTPUTS] });
    let started = 0;
    sfnMock.on(StartExecutionCommand).callsFake(() => ({ executionArn: `exec-${++started}` }));
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'SUCCEEDED' })
      .resolvesOnce({ status: 'SUCCEEDED' });
    const report = await seedSandbox(
      options({ runEtl: true }),
      { ...clients, sleep: async () => undefined },
      io(),
    );
    const days = daysOf(filesToUpload(data));
    expect(days).toEqual(['2026-02-27', '2026-02-28']);
    expect(
      sfnMock.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input ?? '')),
    ).toEqual(days.map((day) => ({ day })));
    expect(report.etl).toEqual([
      { day: '2026-02-27', executionArn: 'exec-1', status: 'SUCCEEDED' },
      { day: '2026-02-28', executionArn: 'exec-2', status: 'SUCCEEDED' },
    ]);
  });

  it('stops at a failed ETL run and names it', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': [...DATA_OUTPUTS, ...ETL_OUTPUTS] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'exec-x' });
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ status: 'FAILED', error: 'States.TaskFailed', cause: 'db' });
    await expect(
      seedSandbox(options({ runEtl: true }), { ...clients, sleep: async () => undefined }, io()),
    ).rejects.toThrow(/ETL for 2026-02-27 ended FAILED: States.TaskFailed db \(exec-x\)/);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });
});

describe('parts', () => {
  it('parses arguments', () => {
    expect(parseSeedArgs([])).toMatchObject({ profile: 'sandbox', users: 1000, days: 7, runEtl: false });
    expect(
      parseSeedArgs(['--profile', 'production', '--users', '50', '--days', '2', '--run-etl']),
    ).toMatchObject({
      profile: 'production',
      users: 50,
      days: 2,
      runEtl: true,
    });
    expect(parseSeedArgs(['--region', 'eu-west-1', '--poll-seconds', '0.5'])).toMatchObject({
      region: 'eu-west-1',
      pollMs: 500,
    });
    expect(() => parseSeedArgs(['--users', '0'])).toThrow(UsageError);
    expect(() => parseSeedArgs(['--from', '/nonexistent'])).toThrow(/has no accounts.csv/);
    // Every bad option at once, each with what it expects, then what the values say together.
    expect(() =>
      parseSeedArgs(['--profile', 'Bad Name', '--days', 'x', '--region', 'eu', '--from', '/nonexistent']),
    ).toThrow(
      new UsageError(
        '--profile must be a profile name such as sandbox, got "Bad Name"; --days must be an integer in ' +
          '[1, 366], got "x"; --region must be an AWS region name such as us-east-1, got "eu"; ' +
          '--from /nonexistent has no accounts.csv: expected a directory from npm run data:generate',
      ),
    );
    expect(() => parseSeedArgs(['--run-etl', 'now'])).toThrow(new UsageError("unexpected argument 'now'"));
  });

  it('on a terminal, draws the upload and ETL bars and prints the log lines above them', async () => {
    stacks({ 'ArtistRecommender-sandbox-data': [...DATA_OUTPUTS, ...ETL_OUTPUTS] });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'exec-1' });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    const out = io({ tty: true });
    await seedSandbox(options({ runEtl: true }), { ...clients, sleep: async () => undefined }, out);
    const files = filesToUpload(data);
    const stderr = out.stderr();
    expect(stderr).toMatch(
      new RegExp(`upload [█░]{20} +\\d+% \\| [\\d.]+/[\\d.]+ MB \\| .* \\| \\d+/${files.length} files`),
    );
    expect(stderr).toMatch(/ETL runs [█░]{20} +\d+% \| \d\/2 days/);
    // Each bar ends as its stage's line; the ETL's log lines were printed with the bar cleared first.
    const clear = '\x1b[2K';
    expect(stderr).toContain(`${clear}upload: ${files.length} files, `);
    expect(stderr).toContain(`${clear}ETL runs: 2 days succeeded (`);
    expect(stderr.split(`\r${clear}`)).toHaveLength(1 + out.lines.filter((l) => l.startsWith('ETL ')).length);
  });

  it('loads the Lambda client only when installed, and surfaces function errors', async () => {
    expect(
      lambdaInvoker(() => {
        throw new Error("Cannot find module '@aws-sdk/client-lambda'");
      }),
    ).toBeUndefined();
    const sent: Record<string, unknown>[] = [];
    let reply: Record<string, unknown> = { Payload: Buffer.from('{"rows":1}') };
    const fake = {
      LambdaClient: class {
        async send(command: { input: Record<string, unknown> }) {
          sent.push(command.input);
          return reply;
        }
      },
      InvokeCommand: class {
        constructor(readonly input: Record<string, unknown>) {}
      },
    };
    const invoke = lambdaInvoker(() => fake)!;
    expect(await invoke('fn', { bucket: 'b', key: 'k' })).toEqual({ rows: 1 });
    expect(sent[0].FunctionName).toBe('fn');
    expect(JSON.parse(Buffer.from(sent[0].Payload as Uint8Array).toString())).toEqual({
      bucket: 'b',
      key: 'k',
    });
    reply = { FunctionError: 'Unhandled', Payload: Buffer.from('{"errorType":"TooManyBadRowsError"}') };
    await expect(invoke('fn', {})).rejects.toThrow(/fn failed \(Unhandled\): .*TooManyBadRowsError/);
  });
});
