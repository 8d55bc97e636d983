/**
 * `npm run e2e:local` and `npm run bench:serving` run a design's own script: `--design <id>` picks
 * one of the registered designs (anything else is bad usage naming the choices), none runs every
 * design in turn. The two npm scripts are spawned as npm runs them; how a run of several designs
 * reads (headings, one JSON object keyed by design, exit codes, stopping at bad usage) is checked
 * on two stand-in designs (test/scripts/fixtures/dispatch/), whose scripts cost nothing to run.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DESIGNS } from '../../lib/designs';
import { UsageError } from '../../scripts/support/cli';
import { dispatch, parseDispatchArgs, type DispatchSpec } from '../../scripts/support/design-dispatch';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const IDS = Object.keys(DESIGNS);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnScript(script: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, '--transpile-only', join(ROOT, script), ...args],
      { cwd: ROOT, env: { ...process.env, CI: '' }, timeout: 50_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('the --design option', () => {
  it('is taken out of the command line; everything else goes on as given', () => {
    expect(parseDispatchArgs(['--design', IDS[1], '--seed', '3', '--quiet'], IDS)).toEqual({
      design: IDS[1],
      rest: ['--seed', '3', '--quiet'],
      help: false,
      json: false,
    });
    expect(parseDispatchArgs([`--design=${IDS[0]}`, '--json'], IDS)).toEqual({
      design: IDS[0],
      rest: ['--json'],
      help: false,
      json: true,
    });
    expect(parseDispatchArgs(['-h'], IDS)).toEqual({
      design: undefined,
      rest: ['-h'],
      help: true,
      json: false,
    });
    // After `--`, nothing is read: a --design there belongs to the design's script.
    expect(parseDispatchArgs(['--', '--design', 'x'], IDS).rest).toEqual(['--', '--design', 'x']);
  });

  it('refuses a design that is not registered, a missing value and a second --design, naming the choices', () => {
    const choices = `one of ${IDS.join(', ')}`;
    expect(() => parseDispatchArgs(['--design', 'nope'], IDS)).toThrow(
      new UsageError(`--design must be ${choices}, got "nope"`),
    );
    expect(() => parseDispatchArgs(['--design=', '--json'], IDS)).toThrow(
      new UsageError(`--design must be ${choices}, got ""`),
    );
    expect(() => parseDispatchArgs(['--design'], IDS)).toThrow(
      new UsageError(`--design needs a value: ${choices}`),
    );
    expect(() => parseDispatchArgs(['--design', '--json'], IDS)).toThrow(
      new UsageError(`--design needs a value: ${choices}`),
    );
    expect(() => parseDispatchArgs(['--design', IDS[0], '--design', IDS[0]], IDS)).toThrow(
      new UsageError('--design is given 2 times; give one, or none for every design in turn'),
    );
  });
});

describe.each([
  ['e2e:local', 'scripts/e2e-local.ts'],
  ['bench:serving', 'bench/serving.ts'],
])('npm run %s', (name, script) => {
  it('an unknown design: exit 2, one line naming every registered design, nothing run', async () => {
    const run = await spawnScript(script, ['--design', 'nope', '--json']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `${name}: --design must be one of ${IDS.join(', ')}, got "nope" (see --help)\n`,
    });
  }, 60_000);

  it("--help without --design: its own help, then every design's own, in the registry's order", async () => {
    const run = await spawnScript(script, ['--help']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(
      new RegExp(
        `^Usage: npm run ${name} -- \\[options\\]\n[\\s\\S]*^ {2}--design <id> +the design to run \\(default: every design in turn\\)$`,
        'm',
      ),
    );
    const headings = [...run.stdout.matchAll(/^== (\S+) ==$/gm)].map((m) => m[1]);
    expect(headings).toEqual(IDS);
    // Each heading is followed by that design's own usage and exit codes.
    const sections = run.stdout.split(/^== \S+ ==$/m).slice(1);
    expect(sections).toHaveLength(IDS.length);
    for (const section of sections) {
      expect(section).toMatch(/^\nUsage: npm run \S+ -- .*\[options\]$/m);
      expect(section).toMatch(/^Exit codes:\n {2}0 {2}/m);
    }
  }, 60_000);

  it('--design <id> --help: only that design after its own help', async () => {
    const last = IDS[IDS.length - 1];
    const run = await spawnScript(script, ['--design', last, '--help']);
    expect(run.code).toBe(0);
    expect([...run.stdout.matchAll(/^== (\S+) ==$/gm)].map((m) => m[1])).toEqual([last]);
  }, 60_000);
});

describe('a run of several designs', () => {
  const spec: DispatchSpec = {
    name: 'fixture',
    description: 'Stand-in designs.',
    folder: join('test', 'scripts', 'fixtures', 'dispatch'),
    file: 'run.ts',
  };
  const designs = ['alpha', 'beta', 'gamma'];

  /** Runs dispatch in this process, with what it writes to stdout kept. */
  async function dispatched(argv: string[]): Promise<{ code: number; stdout: string }> {
    const original = process.stdout.write;
    let stdout = '';
    process.stdout.write = ((chunk: string | Uint8Array) => {
      stdout += chunk.toString();
      return true;
    }) as typeof process.stdout.write;
    try {
      return { code: await dispatch(spec, designs, argv), stdout };
    } finally {
      process.stdout.write = original;
    }
  }

  it('runs every design that has the script, each output under its heading', async () => {
    // gamma has no script: it is not one of the designs run.
    expect(await dispatched(['--seed', '3'])).toEqual({
      code: 0,
      stdout: '== alpha ==\nalpha ran with --seed 3\n\n== beta ==\nbeta ran with --seed 3\n',
    });
  }, 30_000);

  it('--json: one JSON object keyed by design, null for a design that printed none', async () => {
    const run = await dispatched(['--json', '--x']);
    expect(run.code).toBe(0);
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(JSON.parse(run.stdout)).toEqual({
      alpha: { design: 'alpha', args: ['--json', '--x'] },
      beta: { design: 'beta', args: ['--json', '--x'] },
    });
    expect(JSON.parse((await dispatched(['--json', '--silent'])).stdout)).toEqual({
      alpha: null,
      beta: null,
    });
  }, 30_000);

  it('goes on after a design that fails, and exits with its code', async () => {
    const run = await dispatched(['--fail-in', 'alpha']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('beta ran with --fail-in alpha');
  }, 30_000);

  it('stops at bad usage: the next design is not run, stdout stays empty, exit 2', async () => {
    // beta would have printed its heading and its line.
    expect(await dispatched(['--usage-in', 'alpha'])).toEqual({ code: 2, stdout: '' });
    expect(await dispatched(['--usage-in', 'beta'])).toEqual({
      code: 2,
      stdout: '== alpha ==\nalpha ran with --usage-in beta\n',
    });
  }, 30_000);

  it('--design <id>: that design alone, its exit code passed on; a design without the script is bad usage', async () => {
    expect((await dispatched(['--design', 'beta', '--fail-in', 'beta', '--silent'])).code).toBe(1);
    expect((await dispatched(['--design', 'alpha', '--fail-in', 'beta', '--silent'])).code).toBe(0);
    await expect(dispatched(['--design', 'gamma'])).rejects.toThrow(
      new UsageError(
        `--design gamma has no ${join(spec.folder, 'gamma', 'run.ts')}; designs that have one: alpha, beta`,
      ),
    );
  }, 30_000);
});
