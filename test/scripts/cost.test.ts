/**
 * `npm run cost`'s command line: `-c key=value` as cdk takes it, one usage error naming every bad
 * option or context value (exit 2), and a run over a synthesized assembly: the estimate as text,
 * one JSON object, and exit 3 when a resource type has no cost model.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costCli, parseCostArgs } from '../../scripts/cost';
import { HelpShown, UsageError } from '../../scripts/support/cli';
import { DESIGNS } from '../../lib/designs';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

const parse = (...argv: string[]) => parseCostArgs(costCli(), argv);
const [FIRST, SECOND] = Object.keys(DESIGNS);

describe('the command line', () => {
  it('takes -c design and -c profile as cdk does, and passes other context on', () => {
    expect(parse('-c', `design=${SECOND}`, '--context', 'profile=sandbox', '-c', 'verbose=true')).toEqual({
      designs: [SECOND],
      profiles: ['sandbox'],
      context: { design: SECOND, profile: 'sandbox', verbose: 'true' },
      format: 'text',
    });
  });

  it('estimates every design in both profiles when neither is given', () => {
    const args = parse('--json');
    expect(args.designs).toEqual(Object.keys(DESIGNS));
    expect(args.designs).toEqual(expect.arrayContaining([FIRST, SECOND]));
    expect(args.profiles).toEqual(['sandbox', 'production']);
    expect(args.format).toBe('json');
  });

  it('names every bad value in one usage error', () => {
    // GIVEN an unknown design, an unknown profile and a context entry without '='
    const run = () => parse('-c', 'design=x', '-c', 'profile=prod', '-c', 'oops');
    // THEN one error names all three
    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      /-c must be key=value, got "oops".*-c design must be one of .*got "x".*-c profile must be one of sandbox, production, got "prod"/,
    );
  });

  it.each([
    [['--app', 'cdk.out', '-c', `design=${FIRST}`], /-c cannot go with --app/],
    [['--json', '--markdown'], /--json and --markdown: choose one/],
    [['--bogus'], /unknown option '--bogus'/],
    [['-c'], /--context needs a value/],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });

  it('shows its help', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(() => parse('--help')).toThrow(HelpShown);
      expect(write.mock.calls.join('')).toMatch(
        /Without -c design=<id>, every registered design; without -c profile=<name>, both profiles/,
      );
    } finally {
      write.mockRestore();
    }
  });
});

describe('a run over a synthesized assembly', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cost-'));
    const tags = [
      { Key: 'blueprint:design', Value: 'demo' },
      { Key: 'blueprint:profile', Value: 'sandbox' },
    ];
    const template = (resources: Record<string, unknown>) => JSON.stringify({ Resources: resources });
    mkdirSync(join(dir, 'priced'));
    writeFileSync(
      join(dir, 'priced', 'Demo-sandbox-Data.template.json'),
      template({
        Key: {
          Type: 'AWS::KMS::Key',
          Properties: { Tags: tags },
          Metadata: { 'aws:cdk:path': 'Demo-sandbox-Data/Key/Resource' },
        },
        Endpoint: {
          Type: 'AWS::EC2::VPCEndpoint',
          Properties: {
            VpcEndpointType: 'Interface',
            SubnetIds: ['subnet-a', 'subnet-b'],
            ServiceName: 's',
            VpcId: 'v',
          },
        },
      }),
    );
    mkdirSync(join(dir, 'unknown'));
    writeFileSync(
      join(dir, 'unknown', 'Demo-sandbox-Data.template.json'),
      template({ Queue: { Type: 'AWS::SQS::Queue' } }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [TS_NODE, '--transpile-only', join(ROOT, 'scripts', 'cost.ts'), ...args],
        { cwd: ROOT, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  }

  it('prints every resource, the totals and the goal', async () => {
    const { code, stdout } = await run('--app', join(dir, 'priced'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^demo, sandbox \(us-east-1 list prices of \d{4}-\d{2}, USD\)/);
    expect(stdout).toMatch(/\$1\.00 {2}Key \(AWS::KMS::Key\): customer managed key/);
    expect(stdout).toMatch(/\$14\.60 {2}Endpoint \(AWS::EC2::VPCEndpoint\): interface endpoint in 2 AZs/);
    expect(stdout).toMatch(/Idle total: \$15\.60 a month/);
    expect(stdout).toMatch(
      /Sandbox goal <= \$15\.00 a month idle: above by \$0\.60; what puts it above, largest first: Endpoint \(\$14\.60\)/,
    );
  });

  it('prints one JSON object with the unknown types, and exits 3 for them', async () => {
    const { code, stdout } = await run('--app', join(dir, 'unknown'), '--json');
    expect(code).toBe(3);
    const report = JSON.parse(stdout);
    expect(report.deployments[0].unknown).toEqual([
      expect.objectContaining({ type: 'AWS::SQS::Queue', reason: expect.stringMatching(/no cost model/) }),
    ]);
  });

  it('refuses bad usage in one line on stderr, exit 2', async () => {
    const { code, stdout, stderr } = await run('-c', 'design=nope');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^cost: -c design must be one of .*got "nope" \(see --help\)$/),
    ]);
  });
});
