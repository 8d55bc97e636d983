/**
 * `npm run bench:serving -- --plot FILE.png` at tiny sizes: the latency samples become a PNG drawn by
 * sagemaker/artist_recommender/plots.py, the progress stays on stderr, and `--json` keeps stdout to the
 * one JSON object. A missing Python is one line, before the bench spends any time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const TINY = ['--requests', '200', '--throughput-requests', '200', '--init-runs', '2'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, '--transpile-only', join(ROOT, 'bench', 'artist-recommender', 'serving.ts'), ...args],
      // Not a terminal and not CI: the progress is one plain line per stage.
      { cwd: ROOT, env: { ...process.env, CI: '', ...env }, timeout: 90_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-serving-test-'));
  dirs.push(dir);
  return dir;
}

describe('bench:serving --plot', () => {
  it('writes a PNG of the latency distribution; stdout holds only the JSON', async () => {
    const png = join(tempDir(), 'latency.png');
    const run = await bench([...TINY, '--json', '--plot', png]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });

    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(statSync(png).size).toBeGreaterThan(5 * 1024);

    const stdout = run.stdout.trimEnd().split('\n');
    expect(stdout).toHaveLength(1);
    expect(JSON.parse(stdout[0])).toMatchObject({ requests: 200, handler: { n: 200 }, raw: { n: 200 } });
    // The progress: one line per stage, the measured ones among them, then what was written.
    for (const stage of ['warm-up', 'latency, concurrency 1', 'throughput, concurrency 64', 'latency plot'])
      expect(run.stderr).toMatch(new RegExp(`^${stage}: .+ \\(\\d+\\.\\d s[^)]*\\)$`, 'm'));
    expect(run.stderr).toContain(`wrote ${png} (the latency distribution, handler against raw GET)`);
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).not.toContain('\x1b');
  }, 90_000);

  it('without a Python to draw with, says so in one line before measuring anything', async () => {
    const png = join(tempDir(), 'never.png');
    const run = await bench([...TINY, '--plot', png], { RECOMMENDER_PYTHON: '/nonexistent/python3' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^bench:serving: --plot needs Python with matplotlib: sagemaker\/bin\/py: '\/nonexistent\/python3' cannot import torch and numpy; .+\n$/,
    );
    expect(run.stdout).toBe('');
    expect(() => statSync(png)).toThrow();
  }, 60_000);

  it('refuses a --plot it could never write, as bad usage', async () => {
    const run = await bench(['--plot', '/nonexistent-folder/latency.png', '--quiet']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'bench:serving: --plot /nonexistent-folder/latency.png: folder /nonexistent-folder does not exist (see --help)\n',
    );
  }, 60_000);
});
