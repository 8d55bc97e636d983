/** What the serving benches share: the report on stdout, latency summaries, number formats, the bundle. */
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import type { Progress, Stage } from '../../scripts/support/progress';

const stdoutFd = 1;

/** Writes one line of the report to stdout, past `silenceStdout`. */
export const report = (text: string) => writeSync(stdoutFd, text.endsWith('\n') ? text : `${text}\n`);

/**
 * Sends everything the process writes through process.stdout to /dev/null (Powertools writes its
 * lines there in production, so their cost stays in the measured path) while `report` still reaches
 * stdout. Returns the function that puts stdout back.
 */
export function silenceStdout(): () => void {
  const devNull = openSync('/dev/null', 'w');
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === 'string') writeSync(devNull, chunk);
    else writeSync(devNull, chunk);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
    closeSync(devNull);
  };
}

export interface LatencyStats {
  readonly n: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

/** p50, p99 (nearest rank) and mean of samples in nanoseconds, in microseconds. */
export function stats(samplesNs: readonly number[]): LatencyStats {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length / 1000;
  return { n: sorted.length, p50Us: at(0.5), p99Us: at(0.99), meanUs: mean };
}

/** The stats to a tenth of a microsecond, as reported. */
export function roundStats(s: LatencyStats): LatencyStats {
  return { n: s.n, p50Us: round(s.p50Us, 1), p99Us: round(s.p99Us, 1), meanUs: round(s.meanUs, 1) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A number with thousands separators and exactly `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const count = (n: number) => n.toLocaleString('en-US');

/**
 * A machine too loaded for its tail figures: a loaded machine preempts the loop, and the tail then
 * measures the scheduler, not the code.
 */
export function isNoisy(loadAverage: number, cpuCount: number, raw: LatencyStats): boolean {
  return loadAverage > cpuCount * 0.5 || raw.p99Us > 5 * raw.p50Us;
}

/** A report table: the first column left-aligned, the others right-aligned, a rule under the header. */
export function tableLines(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: readonly string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}

export interface BundleOptions {
  /** The handler file to bundle. */
  readonly entry: string;
  /** Where index.js and its source map are written. */
  readonly outDir: string;
  /** esbuild's target, the function's runtime (e.g. `node24`, as BundledFunction sets it). */
  readonly target: string;
  /** The name the project's own code gets among the largest parts. */
  readonly ownCode: string;
}

/**
 * Builds `entry` the way a Node.js function is bundled (platform node, CJS, minified, external
 * source map, nothing external: the SDK clients are bundled as the function bundles them), writes
 * it to `outDir/index.js`, and returns its size and its six largest parts by package, in KB.
 */
export async function bundle(options: BundleOptions) {
  const esbuild = await import('esbuild');
  mkdirSync(options.outDir, { recursive: true });
  const outfile = join(options.outDir, 'index.js');
  const build: BuildOptions = {
    entryPoints: [options.entry],
    bundle: true,
    platform: 'node',
    target: options.target,
    format: 'cjs',
    minify: true,
    external: [],
    logLevel: 'silent',
  };
  await esbuild.build({ ...build, sourcemap: 'external', outfile });
  const { metafile } = await esbuild.build({ ...build, write: false, metafile: true });
  if (!metafile) throw new Error('esbuild wrote no metafile');
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(Object.values(metafile.outputs)[0].inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match ? match[1] : options.ownCode;
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, bytes]) => ({ name, kb: round(bytes / 1024, 1) }));
  return { outfile, kb: round(statSync(outfile).size / 1024, 1), largest };
}

/** One way to serve request `i`, timed as a whole call. */
export type Contender = (i: number) => Promise<void>;

/** Calls each contender `rounds` times in turn (JIT, connections, caches), untimed. */
export async function warmUp(
  progress: Progress,
  contenders: readonly Contender[],
  rounds: number,
): Promise<void> {
  await progress.track(
    'warm-up',
    { total: rounds * contenders.length, unit: 'requests', redrawOnUpdate: true },
    async (stage) => {
      for (let i = 0; i < rounds; i++) {
        for (const call of contenders) await call(i);
        if (i % 100 === 99) stage.add(100 * contenders.length);
      }
    },
  );
}

/**
 * Latency at concurrency 1: `requests` timed calls of each contender (nanoseconds, one array per
 * contender), in alternating blocks of `block` whose order rotates from block to block, so every
 * contender sees the same noise. Progress is redrawn only between blocks, outside every timed call.
 */
export async function alternatingBlocks(
  progress: Progress,
  contenders: readonly Contender[],
  options: { readonly requests: number; readonly block: number; readonly names: string },
): Promise<number[][]> {
  const { requests, block: blockSize } = options;
  const samples = contenders.map((): number[] => []);
  await progress.track(
    'latency, concurrency 1',
    { total: requests * contenders.length, unit: 'requests', redrawOnUpdate: true },
    async (stage: Stage) => {
      for (let block = 0; samples[0].length < requests; block++) {
        const size = Math.min(blockSize, requests - samples[0].length);
        for (let k = 0; k < contenders.length; k++) {
          const at = (block + k) % contenders.length;
          for (let j = 0; j < size; j++) {
            const started = process.hrtime.bigint();
            await contenders[at](block * blockSize + j);
            samples[at].push(Number(process.hrtime.bigint() - started));
          }
        }
        stage.add(size * contenders.length);
      }
    },
    () => `${count(samples[0].length)} each: ${options.names}`,
  );
  return samples;
}
