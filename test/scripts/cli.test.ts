/**
 * Every TypeScript script package.json runs answers the same way: `--help` prints its usage, each
 * option with its default, and the exit codes (exit 0); an unknown option is refused, named, in one
 * line on stderr (exit 2), before the script does anything. The scripts are found in package.json and
 * spawned as npm runs them, a few at a time; then the shared parser itself, in process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsHint, NO_REGION } from '../../scripts/support/aws';
import {
  Cli,
  HelpShown,
  UsageError,
  day,
  decimal,
  describeFailure,
  integer,
  isoTime,
  oneOf,
} from '../../scripts/support/cli';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const SPAWN_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The npm scripts that run a TypeScript file with ts-node: name -> its words after `ts-node`. */
function typeScriptScripts(): [string, string[]][] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return Object.entries(scripts)
    .filter(([, command]) => /^ts-node\s/.test(command))
    .map(([name, command]) => [name, command.split(/\s+/).slice(1)]);
}

// An empty home: no ~/.aws/config or credentials of whoever runs the tests.
const HOME = mkdtempSync(join(tmpdir(), 'cli-home-'));
afterAll(() => rmSync(HOME, { recursive: true, force: true }));

/** The environment of a script started outside npm, with nothing of an AWS account in it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME };
  for (const name of Object.keys(env)) {
    if (name.startsWith('AWS_') || name.startsWith('npm_')) delete env[name];
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true' };
}

function spawnScript(words: string[], args: string[], env = cleanEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, ...words, ...args],
      { cwd: ROOT, env, timeout: SPAWN_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the jobs with at most `limit` at a time (each is a process that costs a core for a second or two). */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

/** The option entries of a help text: each `  --flag <value>  description` with its wrapped lines. */
function optionEntries(help: string): string[] {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return section
    .split(/\n(?= {2}-)/)
    .map((entry) => entry.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

const scripts = typeScriptScripts();
const UNKNOWN = '--no-such-option';

describe('every TypeScript npm script', () => {
  let help: Map<string, Run>;
  let unknown: Map<string, Run>;

  beforeAll(async () => {
    const runs = await pool(
      scripts.flatMap(([, words]) => [
        () => spawnScript(words, ['--help']),
        () => spawnScript(words, [UNKNOWN]),
      ]),
      4,
    );
    help = new Map(scripts.map(([name], i) => [name, runs[2 * i]]));
    unknown = new Map(scripts.map(([name], i) => [name, runs[2 * i + 1]]));
    // A hang guard: every spawn has its own SPAWN_TIMEOUT_MS; two per script, four at a time, on a
    // busy 2-core machine beside the other test workers.
  }, 600_000);

  it('is found in package.json', () => {
    expect(scripts.map(([name]) => name).sort()).toEqual(
      expect.arrayContaining([
        'bench:cache-load',
        'bench:etl',
        'bench:serving',
        'data:generate',
        'data:seed-sandbox',
        'e2e:local',
        'integ',
        'integ:snapshot',
        'integ:update',
        'serve:local',
        'train',
      ]),
    );
  });

  it.each(scripts.map(([name]) => name))(
    '%s --help: usage, every option with its default, exit 0',
    (name) => {
      const run = help.get(name)!;
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^Usage: \S.* \[options\]/);
      expect(run.stdout).toMatch(/^ {2}-h, --help +show this help and exit$/m);
      expect(run.stdout).toMatch(/^Exit codes:\n {2}0 {2}.+\n {2}1 {2}.+\n {2}2 {2}bad usage/m);
      // An option that takes a value says what happens without it.
      const withValue = optionEntries(run.stdout).filter((entry) => /^-[^ ]*( -[^ ]*)? </.test(entry));
      for (const entry of withValue) expect(entry).toMatch(/\(default: [^)]+\)/);
    },
  );

  it.each(scripts.map(([name]) => name))(
    '%s refuses an unknown option: one line naming it, exit 2',
    (name) => {
      const run = unknown.get(name)!;
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^[\\w:-]+: unknown option '${UNKNOWN}' \\(see --help\\)\\n$`));
      // Refused before any work: nothing on stdout (an integ run would have said it checks the account).
      expect(run.stdout).toBe('');
    },
  );
});

describe('what the scripts say', () => {
  const words = (name: string) => scripts.find(([script]) => script === name)![1];

  it('an AWS script without a region names the setting, before any SDK call (exit 2)', async () => {
    const runs = await pool(
      ['train', 'data:seed-sandbox'].map((name) => () => spawnScript(words(name), [])),
      2,
    );
    expect(runs.map((run) => ({ code: run.code, stderr: run.stderr, stdout: run.stdout }))).toEqual([
      { code: 2, stderr: `train: ${NO_REGION} (see --help)\n`, stdout: '' },
      { code: 2, stderr: `data:seed-sandbox: ${NO_REGION} (see --help)\n`, stdout: '' },
    ]);
  }, 60_000);

  it('says where the options go when npm kept them for itself', async () => {
    const run = await new Promise<Run>((resolve) =>
      execFile(
        'npm',
        ['run', '--silent', 'data:generate', '--users', '5'],
        { cwd: ROOT, env: cleanEnv(), timeout: SPAWN_TIMEOUT_MS },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      ),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "data:generate: unexpected argument '5' (with npm run, options go after --: npm run data:generate -- --option value)",
    );
  }, 60_000);
});

describe('the shared parser', () => {
  const cli = () =>
    new Cli({ name: 'demo', usage: 'demo', description: 'a demo' })
      .option('--users <count>', 'users', integer(1, 100), 10)
      .option('--rate <rate>', 'a rate', decimal(0, 0.5), 0.1)
      .option('--profile <name>', 'profile', oneOf(['sandbox', 'production']), 'sandbox')
      .option('--end <day>', 'end', day(), '2026-03-01')
      .option('--since <time>', 'since', isoTime(), undefined, 'a day ago')
      .flag('--keep', 'keep')
      .flag('--no-wait', 'do not wait');

  it('returns the defaults, typed values and flags', () => {
    expect(cli().parse([])).toEqual({
      users: 10,
      rate: 0.1,
      profile: 'sandbox',
      end: '2026-03-01',
      keep: false,
      wait: true,
    });
    expect(
      cli().parse(['--users=7', '--rate', '.5', '--since', '2026-01-31T12:00:00Z', '--keep', '--no-wait']),
    ).toMatchObject({
      users: 7,
      rate: 0.5,
      since: new Date('2026-01-31T12:00:00Z'),
      keep: true,
      wait: false,
    });
  });

  it('names every bad value at once, with what it expects, then the unknown option', () => {
    expect(() =>
      cli().parse([
        '--users',
        '1e2',
        '--rate',
        '0.6',
        '--profile',
        'prod',
        '--end',
        '2026-02-30',
        '--user',
        '3',
      ]),
    ).toThrow(
      new UsageError(
        '--users must be an integer in [1, 100], got "1e2"; --rate must be a number in [0, 0.5], got "0.6"; ' +
          '--profile must be one of sandbox, production, got "prod"; ' +
          '--end must be a day as YYYY-MM-DD that exists, got "2026-02-30"; ' +
          "unknown option '--user' (did you mean --users?)",
      ),
    );
  });

  it('names a missing value and what it expects, also when an option stands in its place', () => {
    expect(() => cli().parse(['--users'])).toThrow(
      new UsageError('--users needs a value: an integer in [1, 100]'),
    );
    expect(() => cli().parse(['--users', '--keep'])).toThrow(
      '--users needs a value: an integer in [1, 100] (got the option --keep)',
    );
    expect(() => cli().parse(['5'])).toThrow(new UsageError("unexpected argument '5'"));
  });

  it('prints the help to stdout and stops with HelpShown, whatever else is on the line', () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(() => cli().parse(['--users', 'x', '--help'])).toThrow(HelpShown);
    } finally {
      write.mockRestore();
    }
    expect(written.join('')).toMatch(/--users <count> +users \(default: 10\)/);
    expect(written.join('')).toMatch(/--since <time> +since \(default: a day ago\)/);
  });

  it('maps what a script throws to one line and an exit code; a programming error keeps its stack', () => {
    expect(describeFailure('x', new HelpShown())).toEqual({ code: 0 });
    expect(describeFailure('x', new UsageError('--users must be ...'))).toEqual({
      code: 2,
      text: 'x: --users must be ... (see --help)',
    });
    expect(describeFailure('x', new Error('the load did not complete'))).toEqual({
      code: 1,
      text: 'x: the load did not complete',
    });
    const bug = describeFailure('x', new TypeError("Cannot read properties of undefined (reading 'a')"));
    expect(bug.code).toBe(1);
    expect(bug.text).toMatch(/^x: Cannot read properties .*\nTypeError: .*\n {4}at /);
  });

  it('says how to set missing or expired AWS credentials', () => {
    const missing = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(awsHint(missing)).toMatch(
      /^no AWS credentials: set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/,
    );
    expect(
      awsHint(
        Object.assign(new Error('The security token included in the request is expired'), {
          name: 'ExpiredTokenException',
        }),
      ),
    ).toMatch(/expired: sign in again/);
    expect(awsHint(new Error('Rate exceeded'))).toBeUndefined();
  });
});
