/**
 * `npm run bench:serving -- --design ad-click` at tiny sizes: `--json` keeps stdout to one JSON
 * object whose numbers hang together, the progress stays on stderr, the stub endpoint's fixed
 * answer time is in every call of both sides, and bad usage is refused before anything runs. No
 * timing threshold: a busy machine may make any side slow.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const TINY = ['--requests', '200', '--block', '50', '--warm-up', '50'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, '--transpile-only', join(ROOT, 'bench', 'ad-click', 'serving.ts'), ...args],
      // Not a terminal and not CI: the progress is one plain line per stage.
      { cwd: ROOT, env: { ...process.env, CI: '' }, timeout: 90_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

interface Latency {
  n: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

function expectLatency(value: Latency, n: number): void {
  expect(value.n).toBe(n);
  expect(value.p50Us).toBeGreaterThan(0);
  expect(value.p99Us).toBeGreaterThanOrEqual(value.p50Us);
  expect(value.meanUs).toBeGreaterThan(0);
}

describe('bench:serving --design ad-click', () => {
  it('--json: one object with each side, the ratio, the added milliseconds and the bundle', async () => {
    const run = await bench([...TINY, '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const stdout = run.stdout.trimEnd().split('\n');
    expect(stdout).toHaveLength(1);
    const result = JSON.parse(stdout[0]);

    expect(result).toMatchObject({
      requests: 200,
      block: 50,
      warmUp: 50,
      candidates: 100,
      endpoint: { answerMs: 0 },
      noisy: expect.any(Boolean),
    });
    expectLatency(result.handler, 200);
    expectLatency(result.raw, 200);
    expectLatency(result.rawPlusJson, 200);
    // The ratio and the added milliseconds are those of the two sides reported.
    expect(result.p99Ratio).toBeCloseTo(result.handler.p99Us / result.raw.p99Us, 1);
    expect(result.p50Ratio).toBeCloseTo(result.handler.p50Us / result.raw.p50Us, 1);
    expect(result.addedMs.p99).toBeCloseTo((result.handler.p99Us - result.raw.p99Us) / 1000, 2);
    expect(result.addedMs.p50).toBeCloseTo((result.handler.p50Us - result.raw.p50Us) / 1000, 2);

    // The bundle it measured exists, its size as reported, its parts no larger than the whole.
    const bundle = join(ROOT, '.bench', 'serving', 'ad-click', 'index.js');
    expect(result.bundle.kb).toBeCloseTo(statSync(bundle).size / 1024, 0);
    expect(result.bundle.largest.length).toBeGreaterThan(0);
    for (const part of result.bundle.largest) {
      expect(part).toEqual({ name: expect.any(String), kb: expect.any(Number) });
      expect(part.kb).toBeLessThanOrEqual(result.bundle.kb);
    }
    // The SDK clients are in, as the deployed function bundles them (BundledFunction).
    // (@aws-sdk/signature-v4-crt is the SDK's own optional native signer, required only for SigV4a.)
    const required = [...readFileSync(bundle, 'utf8').matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map(
      (m) => m[1],
    );
    expect(new Set(required)).toEqual(new Set(['@aws-sdk/signature-v4-crt']));

    for (const stage of ['endpoint stub', 'warm-up', 'latency, concurrency 1', 'bundle \\(esbuild\\)'])
      expect(run.stderr).toMatch(new RegExp(`^${stage}: .+ \\(\\d+\\.\\d s[^)]*\\)$`, 'm'));
    expect(run.stderr).toContain(
      'wrote .bench/serving/ad-click/index.js (the bundle measured) and its source map',
    );
    expect(run.stderr).not.toContain('\x1b');
  }, 90_000);

  it('the stub endpoint answers after --answer-ms on every call, of the handler and of the raw client', async () => {
    const run = await bench([
      '--requests',
      '40',
      '--block',
      '20',
      '--warm-up',
      '5',
      '--answer-ms',
      '3',
      '--json',
      '--quiet',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.endpoint.answerMs).toBe(3);
    // A busy wait inside each call: no call of either side can be quicker.
    for (const side of [result.handler, result.raw, result.rawPlusJson]) {
      expect(side.n).toBe(40);
      expect(side.p50Us).toBeGreaterThanOrEqual(3000);
    }
  }, 90_000);

  it('refuses bad usage naming the option, before it measures anything', async () => {
    const run = await bench(['--answer-ms', '-1', '--quiet']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'bench:serving: --answer-ms must be a number in [0, 1000], got "-1" (see --help)\n',
    });
  }, 60_000);
});
