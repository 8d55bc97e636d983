/**
 * One npm script for every design: `npm run <name> -- [--design <id>] [options]` runs the design's
 * own script (`<folder>/<id>/<file>`) with the other options, as a child process, so its output,
 * its `--json` and its exit code are its own.
 *
 * - `--design <id>`: that design only; stdin, stdout and stderr are the child's, its exit code the
 *   run's (a child ended by a signal: 128 + the signal's number).
 * - no `--design`: every registered design that has the script, in turn. Each design's stdout is
 *   headed by `== <id> ==` (printed once it writes something, so a run that refuses its options
 *   leaves stdout empty); with `--json`, stdout is one JSON object keyed by design (null for a
 *   design that printed no object). The run stops at a design's bad usage (exit 2: the next would
 *   refuse the same options) or at a signal; its exit code is the first non-zero one.
 * - `-h, --help`: this script's help, then each chosen design's own.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative } from 'node:path';
import { Cli, EXIT, HelpShown, UsageError, oneOf } from './cli';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface DispatchSpec {
  /** The npm script's name, e.g. `e2e:local`. */
  readonly name: string;
  /** What it does, for any design, in a sentence. */
  readonly description: string;
  /** Where each design's script lives: `<folder>/<id>/<file>` under the repository root. */
  readonly folder: string;
  readonly file: string;
}

/** The design choice and the arguments that go on to the design's script. */
export interface DispatchArgs {
  /** One design, or undefined for every design in turn. */
  readonly design?: string;
  readonly rest: readonly string[];
  readonly help: boolean;
  readonly json: boolean;
}

/**
 * Takes `--design <id>` (or `--design=<id>`) out of `argv`; everything else goes on unchanged, and
 * everything after `--` unread. Throws UsageError for a missing, unknown or repeated design.
 */
export function parseDispatchArgs(argv: readonly string[], designs: readonly string[]): DispatchArgs {
  const choice = oneOf(designs);
  const rest: string[] = [];
  const chosen: string[] = [];
  let help = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    let value: string | undefined;
    if (arg === '--design') {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('-'))
        throw new UsageError(`--design needs a value: ${choice.expects}`);
      i++;
    } else if (arg.startsWith('--design=')) {
      value = arg.slice('--design='.length);
    } else {
      if (arg === '-h' || arg === '--help') help = true;
      if (arg === '--json') json = true;
      rest.push(arg);
      continue;
    }
    try {
      chosen.push(choice.parse(value));
    } catch (error) {
      throw new UsageError(`--design must be ${(error as Error).message}, got ${JSON.stringify(value)}`);
    }
  }
  if (chosen.length > 1) {
    throw new UsageError(
      `--design is given ${chosen.length} times; give one, or none for every design in turn`,
    );
  }
  return { design: chosen[0], rest, help, json };
}

/** This script's own help: the `--design` option and how the run goes. */
function dispatchCli(spec: DispatchSpec, designs: readonly string[]): Cli {
  return new Cli({
    name: spec.name,
    usage: `npm run ${spec.name} --`,
    description: `${spec.description} Runs ${spec.folder}/<design>/${spec.file} with the other options.`,
    notes: [
      `Without --design, every design in turn (${designs.join(', ')}): each one's output under "== <design> ==",`,
      'or with --json one JSON object keyed by design. The run stops at the first bad usage; the exit code is',
      "the first non-zero one of the designs'. Each design's own options and exit codes follow.",
    ].join('\n'),
    exitCodes: { 1: "a design's run failed (its own exit code is passed on)" },
  }).option('--design <id>', 'the design to run', oneOf(designs), undefined, 'every design in turn');
}

interface ChildRun {
  readonly code: number;
  /** What it wrote to stdout, when that was captured. */
  readonly stdout: string;
}

/**
 * Runs one design's script. `stdout`: 'inherit' hands it the terminal; 'headed' passes its output on
 * after `header`, printed before its first byte; 'capture' keeps it.
 */
function runScript(
  script: string,
  args: readonly string[],
  stdout: 'inherit' | 'headed' | 'capture',
  header = '',
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TS_NODE, '--transpile-only', script, ...args], {
      stdio: ['inherit', stdout === 'inherit' ? 'inherit' : 'pipe', 'inherit'],
    });
    // A signal sent to this process alone (a terminal's Ctrl-C reaches both) goes on to the child,
    // which stops its servers on its way out.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of SIGNALS) process.on(signal, forward);
    let captured = '';
    let headed = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdout === 'capture') {
        captured += chunk.toString();
        return;
      }
      if (!headed) {
        process.stdout.write(header);
        headed = true;
      }
      process.stdout.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      for (const s of SIGNALS) process.removeListener(s, forward);
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout: captured });
    });
  });
}

/** The one JSON object a design's script printed, or null when it printed something else. */
function jsonObject(text: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Runs the command line `argv` for the designs `designs` (ids, in order). Resolves to the exit code;
 * throws UsageError for a bad `--design`.
 */
export async function dispatch(
  spec: DispatchSpec,
  designs: readonly string[],
  argv: readonly string[],
): Promise<number> {
  const args = parseDispatchArgs(argv, designs);
  const scriptOf = (id: string) => join(ROOT, spec.folder, id, spec.file);
  const chosen = args.design ? [args.design] : designs.filter((id) => existsSync(scriptOf(id)));
  if (args.design && !existsSync(scriptOf(args.design))) {
    const having = designs.filter((id) => existsSync(scriptOf(id)));
    throw new UsageError(
      `--design ${args.design} has no ${relative(ROOT, scriptOf(args.design))}; designs that have one: ${having.join(', ') || 'none'}`,
    );
  }
  if (chosen.length === 0) throw new Error(`no design has a ${spec.folder}/<design>/${spec.file}`);

  if (args.help) {
    try {
      dispatchCli(spec, designs).parse(['--help']);
    } catch (error) {
      if (!(error instanceof HelpShown)) throw error;
    }
  }
  if (chosen.length === 1 && !args.help) {
    return (await runScript(scriptOf(chosen[0]), args.rest, 'inherit')).code;
  }

  const collectJson = args.json && !args.help;
  const objects: Record<string, unknown> = {};
  let exitCode: number = EXIT.ok;
  for (const [i, id] of chosen.entries()) {
    const header = `${i > 0 || args.help ? '\n' : ''}== ${id} ==\n`;
    const run = await runScript(scriptOf(id), args.rest, collectJson ? 'capture' : 'headed', header);
    if (collectJson) objects[id] = jsonObject(run.stdout);
    if (run.code !== EXIT.ok && exitCode === EXIT.ok) exitCode = run.code;
    if (run.code === EXIT.usage) return run.code;
    if (run.code > 128) break;
  }
  if (collectJson) process.stdout.write(`${JSON.stringify(objects)}\n`);
  return exitCode;
}
