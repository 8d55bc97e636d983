/**
 * `npm run e2e:local -- --design ad-click`: its options, and a tiny run of the whole path
 * (generate -> local training -> the local model server behind a local SageMaker runtime endpoint
 * -> the scoring handler) that must end with every check holding, every server stopped and the
 * work directory gone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseE2eArgs, UsageError } from '../../../../scripts/ad-click/e2e-local';

const ROOT = join(__dirname, '..', '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'ad-click', 'e2e-local.ts');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the script with `TMPDIR` set to a fresh folder, so what it leaves behind there shows. */
function e2e(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 55_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TS_NODE, '--transpile-only', SCRIPT, ...args], {
      cwd: ROOT,
      // Not a terminal and not CI: the progress is one line per stage on stderr.
      env: { ...process.env, CI: '', ...env },
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-ad-test-'));
  dirs.push(dir);
  return dir;
}

/** The work directories a run left in `dir` (TypeScript's compile cache lives there too). */
const workDirs = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('e2e-local-'));

/** Whether something still listens at `url`. */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('e2e-local arguments', () => {
  it('has defaults that make the calibration check meaningful, and checks its flags', () => {
    expect(parseE2eArgs([])).toEqual({
      rows: 200_000,
      requests: 1000,
      seed: 1,
      work: undefined,
      keep: false,
      quiet: false,
    });
    expect(parseE2eArgs(['--rows', '20000', '--requests=50', '--seed', '9', '--keep', '-q'])).toEqual({
      rows: 20_000,
      requests: 50,
      seed: 9,
      work: undefined,
      keep: true,
      quiet: true,
    });
    expect(() => parseE2eArgs(['--rows', '500'])).toThrow(
      new UsageError('--rows must be an integer in [10000, 10000000], got "500"'),
    );
    // A request takes its user and context from one test row: there are a tenth of --rows.
    expect(() => parseE2eArgs(['--rows', '20000', '--requests', '2001'])).toThrow(
      new UsageError('--requests 2001 is more than the 2000 test rows of --rows 20000'),
    );
    expect(() => parseE2eArgs(['--work'])).toThrow(new UsageError('--work needs a value: a directory'));
    expect(() => parseE2eArgs(['--users', '5'])).toThrow(new UsageError("unknown option '--users'"));
  });

  it('refuses bad usage as a process: exit 2, one line naming the flag, nothing done', async () => {
    const scratch = tempDir();
    const run = await e2e(['--requests', '0', '--quiet'], { TMPDIR: scratch }, 30_000);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'e2e:local: --requests must be an integer in [1, 100000], got "0" (see --help)\n',
    });
    expect(workDirs(scratch)).toEqual([]);
  }, 30_000);
});

describe('npm run e2e:local -- --design ad-click (tiny)', () => {
  it('generates, trains, serves and scores: every check holds, then nothing is left running or on disk', async () => {
    const scratch = tempDir();
    const run = await e2e(['--rows', '20000', '--requests', '100', '--seed', '4'], { TMPDIR: scratch });
    expect({ code: run.code, tail: (run.stdout + run.stderr).slice(-3000) }).toEqual({
      code: 0,
      tail: expect.any(String),
    });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('e2e:local ok');

    // Every answer the model's, in candidate order, probabilities in (0, 1).
    expect(run.stdout).toMatch(
      /^answers: 100 requests -> 100 answered 200 by the model ad-click-e2e-4, 100 scores each in candidate order, probabilities in \(0, 1\): ok$/m,
    );
    // Calibration end to end: the numbers on the line agree with its verdict.
    const calibration =
      /^calibration: mean predicted ([\d.]+) over 10,000 scores; observed click rate ([\d.]+) of 2,000 test rows \(mean true p ([\d.]+)\); \|difference\| ([\d.]+) <= tolerance ([\d.]+): ok$/m.exec(
        run.stdout,
      );
    expect(calibration).not.toBeNull();
    const [predicted, observed, trueP, difference, tolerance] = calibration!.slice(1).map(Number);
    expect(difference).toBeCloseTo(Math.abs(predicted - observed), 4);
    expect(difference).toBeLessThanOrEqual(tolerance);
    for (const p of [predicted, observed, trueP]) {
      expect(p).toBeGreaterThan(0.01);
      expect(p).toBeLessThan(0.06);
    }
    // The model server stopped: the next answer is the fallback's, still a 200.
    expect(run.stdout).toMatch(
      /^fallback: model server stopped -> 200, source fallback, model segment-ctr, each score its segment's CTR: ok$/m,
    );
    // One Feature Store read per request, each valid for the API model; every model answer went
    // through the endpoint, and the stopped container was an error there.
    expect(run.stdout).toMatch(
      /^feature store: 101 BatchGetRecord calls \(one per request\), 0 against the API model: ok$/m,
    );
    expect(run.stdout).toMatch(
      /^endpoint: 100 invocations answered by the container, errors: ServiceUnavailable 1, 0 invalid requests: ok$/m,
    );

    // One table row and one progress line per stage.
    const stages = [
      'generate',
      'train (local)',
      'model server',
      'endpoint',
      'feature store (mock)',
      'score',
      'fallback',
    ];
    for (const stage of stages) {
      expect(lines.some((line) => line.startsWith(`${stage} `))).toBe(true);
      const escaped = stage.replace(/[()]/g, '\\$&');
      expect(run.stderr).toMatch(new RegExp(`^${escaped}: .+ \\(\\d+\\.\\d s[^)]*\\)$`, 'm'));
    }
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(stages.length);
    expect(run.stderr).not.toContain('\x1b');

    // Nothing left: the model server and the endpoint no longer listen, the work directory is gone.
    const server = /^model server +ad_click\.local_server on (http:\/\/\S+),/m.exec(run.stdout)?.[1];
    const endpoint = /^endpoint +InvokeEndpoint \S+ at (http:\/\/\S+) /m.exec(run.stdout)?.[1];
    expect([server, endpoint]).toEqual([expect.stringMatching(/^http:/), expect.stringMatching(/^http:/)]);
    expect(await listening(server!)).toBe(false);
    expect(await listening(endpoint!)).toBe(false);
    expect(workDirs(scratch)).toEqual([]);
  }, 60_000);

  it('a stage that fails ends the run with exit 1 and its reason, and still removes the work directory', async () => {
    const scratch = tempDir();
    const run = await e2e(['--rows', '20000', '--requests', '10', '--quiet'], {
      TMPDIR: scratch,
      RECOMMENDER_PYTHON: '/nonexistent/python3',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^e2e:local: generating failed \(exit 1\):\nsagemaker\/bin\/py: '\/nonexistent\/python3' cannot import torch and numpy/,
    );
    expect(run.stdout).toBe('');
    expect(workDirs(scratch)).toEqual([]);

    // With --keep the same failure leaves its work directory, and says where.
    const kept = await e2e(['--rows', '20000', '--requests', '10', '--quiet', '--keep'], {
      TMPDIR: scratch,
      RECOMMENDER_PYTHON: '/nonexistent/python3',
    });
    expect(kept.code).toBe(1);
    expect(workDirs(scratch)).toHaveLength(1);
    // Python never started, so nothing was written in it.
    expect(kept.stdout).toBe(`work directory kept: ${join(scratch, workDirs(scratch)[0])} ()\n`);
  }, 30_000);
});
