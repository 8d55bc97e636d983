/**
 * `npx cdk synth` prints no bundling progress unless asked for it, and still prints warnings.
 * Three processes, started together: the README's `npx cdk synth --quiet` on the real app, and a
 * one-function app wired as bin/app.ts is (test/bin/fixtures/warning-app.ts, whose handler draws an
 * esbuild warning) synthesized as the CLI would run it, plain and with `-c verbose=true`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { hideBundlingLines, verboseSynth, verboseSynthContext } from '../../bin/bundling-output';

const ROOT = join(__dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
const TS_NODE = require.resolve('ts-node/register/transpile-only');
const FIXTURE_APP = join(__dirname, 'fixtures', 'warning-app.ts');

/** aws-cdk-lib's line per bundled asset, and esbuild's size table and summary. */
const BUNDLING_OUTPUT = [/^Bundling asset /m, /index\.js(\.map)?\s+[\d.]+(b|kb|mb)\b/m, /⚡ Done in/];
const ESBUILD_WARNING = /\[WARNING\] Comparison with -0 using the "===" operator/;

interface Output {
  readonly status: number | null;
  readonly text: string;
  readonly outdir: string;
}

const outdirs: string[] = [];

/**
 * Runs a command, given a fresh output directory, to completion or until the deadline, with stdout
 * and stderr as one text.
 */
const SYNTH_DEADLINE_MS = 360_000;

function runToEnd(command: (outdir: string) => { args: string[]; env: NodeJS.ProcessEnv }): Promise<Output> {
  const outdir = mkdtempSync(join(tmpdir(), 'quiet-synth-'));
  outdirs.push(outdir);
  const { args, env } = command(outdir);
  return new Promise((resolve, reject) => {
    const child = spawn(args[0], args.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    // A guard against a hung synth, not a speed check: the whole app with every function bundled,
    // beside other suites on a 2-core machine, takes minutes.
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish in ${SYNTH_DEADLINE_MS / 1000} s:\n${text}`));
    }, SYNTH_DEADLINE_MS);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(deadline);
      resolve({ status, text, outdir });
    });
  });
}

/** This environment less what would turn the bundling output on or point the app elsewhere. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', ...extra };
  for (const name of ['CDK_DEBUG', 'CDK_CONTEXT_JSON', 'CDK_OUTDIR']) if (!(name in extra)) delete env[name];
  return env;
}

let realApp: Output;
let fixtureQuiet: Output;
let fixtureVerbose: Output;

beforeAll(async () => {
  // The fixture runs as the CLI runs an app: CDK_OUTDIR set, context in CDK_CONTEXT_JSON
  // (`-c verbose=true` arrives as the string 'true').
  const fixture = (context: Record<string, unknown>) => (outdir: string) => ({
    args: [process.execPath, '-r', TS_NODE, FIXTURE_APP],
    env: cleanEnv({ CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) }),
  });
  [realApp, fixtureQuiet, fixtureVerbose] = await Promise.all([
    runToEnd((outdir) => ({ args: [CDK, 'synth', '--quiet', '-o', outdir], env: cleanEnv() })),
    runToEnd(fixture({})),
    runToEnd(fixture({ verbose: 'true' })),
  ]);
}, SYNTH_DEADLINE_MS + 30_000);

afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('npx cdk synth --quiet on the app', () => {
  test('bundles every function but prints none of the bundling output', () => {
    // THEN it succeeded, wrote bundled handlers, and said nothing about bundling them
    expect(realApp.status).toBe(0);
    const bundled = readdirSync(realApp.outdir).filter(
      (name) => name.startsWith('asset.') && existsSync(join(realApp.outdir, name, 'index.js')),
    );
    expect(bundled.length).toBeGreaterThan(5);
    for (const pattern of BUNDLING_OUTPUT) expect(realApp.text).not.toMatch(pattern);
    expect(realApp.text).toMatch(/Successfully synthesized to /);
  });
});

describe('an app wired as bin/app.ts is', () => {
  test('still shows esbuild warnings and its own stderr, without the bundling progress', () => {
    expect(fixtureQuiet.status).toBe(0);
    expect(fixtureQuiet.text).toMatch(ESBUILD_WARNING);
    expect(fixtureQuiet.text).toContain('warning-app: a warning the app writes itself');
    for (const pattern of BUNDLING_OUTPUT) expect(fixtureQuiet.text).not.toMatch(pattern);
  });

  test('shows the bundling progress with -c verbose=true', () => {
    expect(fixtureVerbose.status).toBe(0);
    expect(fixtureVerbose.text).toMatch(ESBUILD_WARNING);
    for (const pattern of BUNDLING_OUTPUT) expect(fixtureVerbose.text).toMatch(pattern);
  });
});

describe('bin/bundling-output', () => {
  test('-c verbose=true, a boolean true, and `cdk synth --debug` (CDK_DEBUG=true) ask for the output; nothing else does', () => {
    const app = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
      new App({ context, postCliContext: verboseSynthContext(env) });
    expect(verboseSynth(app({ verbose: 'true' }))).toBe(true);
    expect(verboseSynth(app({ verbose: true }))).toBe(true);
    expect(verboseSynth(app({}, { CDK_DEBUG: 'true' }))).toBe(true);
    expect(verboseSynth(app({ verbose: 'false' }, { CDK_DEBUG: 'true' }))).toBe(true);
    expect(verboseSynth(app({}))).toBe(false);
    expect(verboseSynth(app({ verbose: 'false' }))).toBe(false);
    expect(verboseSynth(app({ verbose: 'yes' }))).toBe(false);
  });

  test('hideBundlingLines drops exactly the "Bundling asset <path>..." lines and passes every other write', () => {
    // GIVEN a stream whose writes are recorded
    const written: unknown[] = [];
    const callbacks: string[] = [];
    const stream = {
      write: (chunk: unknown, callback?: () => void) => {
        written.push(chunk);
        callback?.();
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    hideBundlingLines(stream);
    // WHEN aws-cdk-lib's line, look-alikes and other output are written
    const dropped = 'Bundling asset Stack/Fn/Code/Stage...\n';
    const kept = [
      '[Warning at /Stack/Fn] something to fix\n',
      'Bundling asset Stack/Fn/Code/Stage...\nand more\n',
      'Bundling asset Stack/Fn/Code/Stage',
      'Failed to bundle asset Stack/Fn/Code/Stage\n',
      Buffer.from(dropped),
    ];
    stream.write(dropped, () => callbacks.push('dropped'));
    for (const chunk of kept) stream.write(chunk as string);
    // THEN only the exact line is gone, and its callback still runs
    expect(written).toEqual(kept);
    return new Promise<void>((resolve) => process.nextTick(resolve)).then(() =>
      expect(callbacks).toEqual(['dropped']),
    );
  });
});
