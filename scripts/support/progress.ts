/**
 * The progress of long work, shown the same way by every script: always on stderr, so stdout keeps
 * only results (a `--json` object, a table). The mode is chosen once per run:
 *
 * - `bar`: stderr is a terminal: the running stage is a bar redrawn in place (cli-progress), with
 *   its count, rate, elapsed time and time left; when the stage ends the bar gives way to the
 *   stage's summary line, so the terminal keeps one line per stage.
 * - `lines`: stderr is not a terminal (a pipe, a log file), or the `CI` environment variable is
 *   set (a CI log can be a pseudo-terminal that would keep every redraw): one line per stage, when
 *   it ends, with its counts and elapsed time; nothing while it runs.
 * - `quiet`: `--quiet`: nothing at all.
 *
 *   const progress = new Progress({ quiet: options.quiet });
 *   const files = await progress.track('upload', { total: 120, unit: 'files' }, async (stage) => {
 *     for (const file of list) { await put(file); stage.add(); }
 *     return list.length;
 *   }, (n) => `${n} files`);
 *
 * A stage whose work is being timed (a benchmark's measured loop) passes `redrawOnUpdate`: it is then
 * redrawn only from `add`/`set` (which such a loop calls between its timed sections), never from a
 * timer that could fire inside a measured call.
 */
import { SingleBar } from 'cli-progress';

export type ProgressMode = 'bar' | 'lines' | 'quiet';

/** Where progress is written: process.stderr, or in tests any object with `write`. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /**
   * Show nothing (the script's `--quiet`).
   * @default false
   */
  readonly quiet?: boolean;
  /**
   * Where to write.
   * @default process.stderr
   */
  readonly stream?: ProgressStream;
  /**
   * The environment `CI` is read from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Whether `stream` is a terminal; true draws bars on any stream (tests).
   * @default stream.isTTY
   */
  readonly tty?: boolean;
}

export interface StageOptions {
  /**
   * How much work the stage has, in `unit`s: the bar fills towards it and the time left is
   * estimated from the rate so far.
   * @default - unknown: the bar shows the count, rate and elapsed time only
   */
  readonly total?: number;
  /**
   * What is counted, plural (`files`, `requests`); `bytes` are shown in MB.
   * @default - nothing is counted: the stage shows its elapsed time
   */
  readonly unit?: string;
  /**
   * Show the count per second (off for counts whose rate means nothing, such as benchmark rounds).
   * @default true
   */
  readonly rate?: boolean;
  /**
   * Reads the count at each redraw and at the end (a stream's `bytesRead`), instead of `add`/`set`.
   * @default - the count is what `add`/`set` said
   */
  readonly poll?: () => number;
  /**
   * More for the bar to show after the count, e.g. the files of an upload counted in bytes.
   * @default - nothing more
   */
  readonly detail?: () => string;
  /**
   * Redraw only from `add`/`set` (at most 4 times a second), never from a timer: for a stage whose
   * work is being timed, so no redraw lands inside a measured call.
   * @default false
   */
  readonly redrawOnUpdate?: boolean;
}

/** Redraws per second of a bar: often enough to look live, rare enough to cost nothing. */
const FPS = 4;
const REDRAW_MS = 1000 / FPS;
const BAR_WIDTH = 20;

/** Whether `CI` is set to something other than empty, `0` or `false` (as CI services set it). */
export function isCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env.CI?.trim();
  return value !== undefined && value !== '' && !/^(0|false)$/i.test(value);
}

/** The mode a run shows its progress in; see the module comment. */
export function progressMode(options: ProgressOptions = {}): ProgressMode {
  if (options.quiet) return 'quiet';
  if (isCi(options.env ?? process.env)) return 'lines';
  const tty = options.tty ?? (options.stream ?? process.stderr).isTTY === true;
  return tty ? 'bar' : 'lines';
}

/** `0.4 s`, `12.3 s`, `4 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

const number = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const megabytes = (bytes: number) => number(bytes / 1e6, 1);

/** `1,234 files`, `12.3 MB`; with a total, `1,234/5,000 files`, `12.3/45.6 MB`. */
export function formatCount(value: number, unit: string, total?: number): string {
  if (unit === 'bytes') return `${megabytes(value)}${total === undefined ? '' : `/${megabytes(total)}`} MB`;
  return `${number(value)}${total === undefined ? '' : `/${number(total)}`} ${unit}`;
}

/** `1,234 files/s`, `12.3 MB/s`. */
export function formatRate(value: number, ms: number, unit: string): string {
  const perSecond = value / (ms / 1000);
  return unit === 'bytes'
    ? `${megabytes(perSecond)} MB/s`
    : `${number(perSecond, perSecond < 10 ? 1 : 0)} ${unit}/s`;
}

/** One run's progress display. */
export class Progress {
  readonly mode: ProgressMode;
  private readonly stream: ProgressStream;
  private active: Stage | undefined;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.mode = progressMode({ ...options, stream: this.stream });
  }

  /** Starts a stage; end it with `done` (its summary line) or `fail`. One bar shows at a time: the latest. */
  stage(label: string, options: StageOptions = {}): Stage {
    this.active?.detach();
    const stage = new Stage(this, label, options);
    if (this.mode === 'bar') this.active = stage;
    return stage;
  }

  /**
   * Runs `body` as a stage: `done` with `summary(result)` when it returns, `fail` when it throws (so
   * a failure's message never lands on the bar's line).
   */
  async track<T>(
    label: string,
    options: StageOptions,
    body: (stage: Stage) => Promise<T> | T,
    summary?: (result: T) => string,
  ): Promise<T> {
    const stage = this.stage(label, options);
    try {
      const result = await body(stage);
      stage.done(summary?.(result));
      return result;
    } catch (error) {
      stage.fail();
      throw error;
    }
  }

  /**
   * Runs `write` (a line for the terminal from elsewhere, stdout included) with the bar taken off
   * the screen, then draws the bar again below it.
   */
  around<T>(write: () => T): T {
    const bar = this.active?.bar;
    if (!bar) return write();
    this.stream.write('\r\x1b[2K');
    try {
      return write();
    } finally {
      bar.render();
    }
  }

  /** @internal */
  write(line: string): void {
    if (this.mode !== 'quiet') this.stream.write(`${line}\n`);
  }

  /** @internal */
  release(stage: Stage): void {
    if (this.active === stage) this.active = undefined;
  }

  /** @internal A cli-progress bar drawing `line` on this run's stream, as on a terminal. */
  startBar(line: (width: number) => string, fps: number): SingleBar {
    const stream = this.stream;
    // cli-progress draws only on a stream that says it is a terminal; `tty: true` means draw anyway.
    // It saves the cursor when a bar starts and restores it when it stops: lines written meanwhile
    // (`around`) would then be overwritten, so those two sequences are left out.
    const terminal = {
      write: (text: string) => (text === '\x1b7' || text === '\x1b8' ? true : stream.write(text)),
      isTTY: true,
      get columns() {
        return stream.columns ?? 80;
      },
    };
    const bar = new SingleBar({
      stream: terminal as unknown as NodeJS.WritableStream,
      format: (_options, params) => line(params.maxWidth),
      fps,
      // The line is cut to the width here rather than by switching the terminal's wrapping off,
      // which a killed process would leave off.
      linewrap: true,
      hideCursor: false,
      clearOnComplete: true,
      // Redrawn even when unchanged: a line written by `around` may have overwritten it.
      forceRedraw: true,
      gracefulExit: false,
    });
    bar.start(1, 0);
    return bar;
  }
}

/** One stage of a run: its count, and its line when it ends. */
export class Stage {
  private value = 0;
  private readonly started = performance.now();
  private ended = false;
  private lastRedraw = 0;
  /** @internal */
  bar: SingleBar | undefined;
  /** A process that exits mid-stage (Ctrl-C, process.exit) leaves no half-drawn bar behind. */
  private readonly onExit = () => this.detach();

  constructor(
    private readonly owner: Progress,
    readonly label: string,
    private readonly options: StageOptions,
  ) {
    if (owner.mode === 'bar') {
      // A timer that never fires, in effect, when only updates may redraw.
      this.bar = owner.startBar((width) => this.line(width), options.redrawOnUpdate ? 0.001 : FPS);
      process.once('exit', this.onExit);
    }
  }

  /** The count so far. */
  get count(): number {
    return this.options.poll ? this.options.poll() : this.value;
  }

  /** Milliseconds since the stage started. */
  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  add(amount = 1): void {
    this.set(this.value + amount);
  }

  set(value: number): void {
    this.value = value;
    if (!this.bar) return;
    if (this.options.redrawOnUpdate) {
      const now = performance.now();
      if (now - this.lastRedraw < REDRAW_MS) return;
      this.lastRedraw = now;
      this.bar.render();
    } else {
      // cli-progress redraws from update() itself when its timer cannot (synchronous work).
      this.bar.update({});
    }
  }

  /** Ends the stage with its summary line: `counts` (default: the count) and the elapsed time. */
  done(counts?: string): void {
    if (this.ended) return;
    this.ended = true;
    const ms = this.elapsedMs;
    this.detach();
    const { unit } = this.options;
    const count = this.count;
    const what = counts ?? (unit ? formatCount(count, unit) : 'done');
    // A rate over a blink of a stage says nothing.
    const rate =
      unit && this.options.rate !== false && count > 0 && ms >= 500 ? `, ${formatRate(count, ms, unit)}` : '';
    this.owner.write(`${this.label}: ${what} (${formatDuration(ms)}${rate})`);
  }

  /** Ends the stage without a result: its line says where the run stopped. */
  fail(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    this.owner.write(`${this.label}: stopped after ${formatDuration(this.elapsedMs)}`);
  }

  /** @internal Takes the bar off the screen. */
  detach(): void {
    if (!this.bar) return;
    process.removeListener('exit', this.onExit);
    this.bar.stop();
    this.bar = undefined;
    this.owner.release(this);
  }

  /** The bar's line, at most `width - 1` characters. */
  private line(width: number): string {
    const ms = this.elapsedMs;
    const { unit } = this.options;
    const count = this.count;
    const parts: string[] = [this.label];
    const { total } = this.options;
    if (total !== undefined && total > 0) {
      const share = Math.min(1, count / total);
      const filled = Math.round(share * BAR_WIDTH);
      parts.push(
        `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${String(Math.floor(share * 100)).padStart(3)}%`,
      );
    }
    // Most telling first: a narrow terminal cuts the end of the line.
    const details: string[] = [];
    if (unit) details.push(formatCount(count, unit, total && total > 0 ? total : undefined));
    let time = formatDuration(ms);
    if (total !== undefined && total > 0 && count > 0 && count < total) {
      time += `, ~${formatDuration(((total - count) * ms) / count)} left`;
    }
    details.push(time);
    if (unit && this.options.rate !== false && count > 0 && ms >= 200)
      details.push(formatRate(count, ms, unit));
    const more = this.options.detail?.();
    if (more) details.push(more);
    const text = `${parts.join(' ')} | ${details.join(' | ')}`;
    return text.length < width ? text : `${text.slice(0, Math.max(0, width - 2))}…`;
  }
}
