import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cli, text } from './cli';
import type { Progress, Stage, StageOptions } from './progress';
import { formatTable, type StageRow } from './stage-table';

export interface StageRunOptions {
  /** Work directory, kept at the end. @default - a temporary one */
  readonly work?: string;
  /** Keep the temporary work directory and print its path. */
  readonly keep: boolean;
}

/** Adds the options of `StageRunOptions` to a command line: --work, --keep, and --quiet for the progress. */
export function withWorkOptions(cli: Cli): Cli {
  return cli
    .option(
      '--work <dir>',
      'work directory, kept at the end',
      text('a directory'),
      undefined,
      'a temporary one',
    )
    .flag('--keep', 'keep the temporary work directory and print its path')
    .quietFlag();
}

/** What an end-to-end run's body gets: its work directory, its stages and its cleanups. */
export interface StageRun {
  readonly work: string;
  /** One row per stage that has ended, in order. */
  readonly rows: StageRow[];
  /** Runs one stage: its progress on stderr while it runs, its line when it ends, its row in the table. */
  readonly stage: <T>(
    name: string,
    body: (progress: Stage) => Promise<{ value: T; counts: string }>,
    shown?: StageOptions,
  ) => Promise<T>;
  /** Runs `cleanup` when the run ends, whatever ends it; the last registered runs first. */
  readonly onCleanup: (cleanup: () => Promise<void> | void) => void;
}

/**
 * Runs `body` in a work directory. On a failure the stage table so far is printed before the error
 * goes on; either way every cleanup runs (their own failures ignored, so each gets its turn: a
 * server left running outlives the run), and the work directory is removed unless `--work` or
 * `--keep` asked for it, in which case its path and folders are printed.
 */
export async function runStages<R>(
  options: StageRunOptions,
  print: (line: string) => void,
  progress: Progress,
  body: (run: StageRun) => Promise<R>,
): Promise<R> {
  const work = options.work ?? mkdtempSync(join(tmpdir(), 'e2e-local-'));
  mkdirSync(work, { recursive: true });
  const rows: StageRow[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const run: StageRun = {
    work,
    rows,
    stage: async (name, stageBody, shown = {}) => {
      const began = performance.now();
      const { value, counts } = await progress.track(name, shown, stageBody, (result) => result.counts);
      rows.push({ stage: name, counts, ms: performance.now() - began });
      return value;
    },
    onCleanup: (cleanup) => cleanups.push(cleanup),
  };
  try {
    return await body(run);
  } catch (error) {
    if (rows.length > 0) {
      print('');
      print(formatTable(rows));
    }
    throw error;
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    if (!options.keep && !options.work) rmSync(work, { recursive: true, force: true });
    else
      print(
        `work directory kept: ${work} (${readdirSync(work)
          .sort()
          .map((name) => `${name}/`)
          .join(', ')})`,
      );
  }
}
