/**
 * A fresh copy of the repository for the README's runnable blocks, and a runner for one block in it.
 *
 * The copy holds what a clone plus the author's uncommitted work would hold: the tracked files and
 * the untracked ones git does not ignore, as they are in the working tree. `node_modules` (and
 * `.venv`, when there is one) is a symlink to the checkout's, so no block needs the network. The copy sits beside a `shared` symlink
 * when the checkout has a `../shared`, so a relative path out of the repository resolves the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

/** The repository's files as `git ls-files --cached --others --exclude-standard` lists them, present on disk. */
export function workingTreeFiles(root: string = REPO_ROOT): string[] {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30_000,
  });
  if (listed.error || listed.status !== 0)
    throw new Error(
      `git ls-files failed in ${root} (${listed.error?.message ?? listed.stderr.trim()}): the README test needs git and a checkout`,
    );
  // A file deleted in the working tree but still in the index is not part of the tree being tested.
  return listed.stdout
    .split('\0')
    .filter(Boolean)
    .filter((file) => {
      try {
        lstatSync(join(root, file));
        return true;
      } catch {
        return false;
      }
    });
}

export interface WorkingCopy {
  /** The repository copy: the blocks' working directory. */
  readonly dir: string;
  readonly remove: () => void;
}

export function makeWorkingCopy(root: string = REPO_ROOT): WorkingCopy {
  const parent = mkdtempSync(join(tmpdir(), 'readme-'));
  const dir = join(parent, basename(root));
  for (const file of workingTreeFiles(root)) {
    const from = join(root, file);
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to); // keeps the mode, so executable scripts stay executable
  }
  const modules = join(root, 'node_modules');
  if (!existsSync(modules))
    throw new Error(`${modules} is missing: run npm ci in the checkout before the README test`);
  // The installed environments, linked rather than installed again: npm's and, when set up, the
  // Python test tools' (git ignores both, so they are not among the copied files).
  for (const environment of ['node_modules', '.venv'])
    if (existsSync(join(root, environment)) && !existsSync(join(dir, environment)))
      symlinkSync(join(root, environment), join(dir, environment), 'dir');
  const shared = join(root, '..', 'shared');
  if (existsSync(shared)) symlinkSync(shared, join(parent, 'shared'), 'dir');
  return { dir, remove: () => rmSync(parent, { recursive: true, force: true }) };
}

export interface BlockRun {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly seconds: number;
  /** stdout and stderr, interleaved as they arrived (the last `MAX_OUTPUT` characters). */
  readonly output: string;
}

const MAX_OUTPUT = 256 * 1024;

/**
 * Runs `script` with `bash -euo pipefail` in `cwd`, in a process group of its own, so that at the end
 * (or at the deadline) everything it started, servers included, is stopped with it.
 */
export function runBlock(
  script: string,
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<BlockRun> {
  const file = join(dirname(cwd), `block-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script.endsWith('\n') ? script : `${script}\n`);
  const began = performance.now();
  const child = spawn('bash', ['-euo', 'pipefail', file], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);

  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  return new Promise<BlockRun>((resolve, reject) => {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        timers.push(setTimeout(() => killGroup('SIGKILL'), 5_000));
      }, timeoutMs),
    );
    child.on('error', (error) => {
      timers.forEach(clearTimeout);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      // Whatever the block left running (a server sent to the background) goes with it.
      killGroup('SIGTERM');
      // Its output pipes close once every process holding them has exited; wait a little for that.
      const settle = setTimeout(finish, 3_000);
      child.on('close', finish);
      let done = false;
      function finish() {
        if (done) return;
        done = true;
        clearTimeout(settle);
        timers.forEach(clearTimeout);
        killGroup('SIGKILL');
        rmSync(file, { force: true });
        resolve({ code, signal, timedOut, seconds: (performance.now() - began) / 1000, output });
      }
    });
  });
}
