import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { ClientBase } from 'pg';
import type { ValidationOptions } from '../events/schema';
import {
  classifyLines,
  emptyCounts,
  type QuarantineRecord,
  type TransformCounts,
  type Verdict,
} from './classify';
import { GzipBuffer } from './gzip-buffer';
import { splitLines } from './lines';
import { loadEvents, type LoadResult } from './load';
import type { StoredEvent } from './stored-event';

/** Larger than zlib's 16 KiB default: fewer, bigger batches through the line splitter. */
export const GUNZIP_CHUNK_BYTES = 64 * 1024;

export interface TransformOptions extends ValidationOptions {
  maxLineBytes?: number;
  /** Whether the source is gzip (as Firehose writes it); plain JSON lines otherwise. */
  gzip?: boolean;
}

export interface TransformOutput {
  counts: TransformCounts;
  /** Gzip JSON lines, one QuarantineRecord per bad line; empty when nothing was quarantined. */
  quarantine: Buffer;
}

/** Collects quarantine records as compressed bytes: bad lines are kept, truncated, never whole in memory. */
class QuarantineSink {
  private readonly lines = new GzipBuffer();

  get count(): number {
    return this.lines.rows;
  }

  add(record: QuarantineRecord): void {
    this.lines.write(JSON.stringify(record) + '\n');
  }

  async close(): Promise<Buffer> {
    const body = await this.lines.close();
    return this.count > 0 ? body : Buffer.alloc(0);
  }
}

async function* cleanEvents(
  verdicts: AsyncIterable<Verdict[]>,
  counts: TransformCounts,
  quarantine: QuarantineSink,
): AsyncGenerator<StoredEvent[]> {
  for await (const batch of verdicts) {
    const clean: StoredEvent[] = [];
    for (const verdict of batch) {
      counts.input++;
      if (verdict.kind === 'clean') {
        counts.clean++;
        if (verdict.event.event_type === 'recommendation') counts.recommendations++;
        else if (verdict.event.event_type === 'feedback') counts.feedback++;
        clean.push(verdict.event);
      } else if (verdict.kind === 'duplicate') {
        counts.duplicates++;
      } else {
        counts.quarantined++;
        quarantine.add(verdict.record);
      }
    }
    if (clean.length > 0) yield clean;
  }
}

/** Where clean lines go: PostgreSQL (`loadEvents`), or the lake's staging (`./stage.ts`). */
export type LoadTarget = (events: AsyncIterable<StoredEvent[]>, sourceKey: string) => Promise<LoadResult>;

/**
 * Reads one raw object (a stream), and loads its clean lines: into PostgreSQL in one transaction
 * when given a client (interactions into `events`, served lists into `served_items`, a row per
 * item, feedback into `feedback`), else through `target`. Conservation: input = clean + duplicates
 * + quarantined; loaded <= clean.
 */
export async function transformObject(
  source: Readable,
  target: ClientBase | LoadTarget,
  sourceKey: string,
  options: TransformOptions,
): Promise<TransformOutput> {
  const counts: TransformCounts = emptyCounts();
  const quarantine = new QuarantineSink();
  const bytes =
    options.gzip === false ? source : source.pipe(createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }));
  if (bytes !== source) {
    // pipe() does not forward the source's errors; the gunzip stream must fail with it. The reader
    // below sees the first error; zlib can emit a second one on flush, which must not crash the process.
    source.on('error', (error) => bytes.destroy(error));
    bytes.on('error', () => undefined);
  }
  const verdicts = classifyLines(splitLines(bytes, options.maxLineBytes), options);
  const load: LoadTarget =
    typeof target === 'function' ? target : (events, key) => loadEvents(target, events, key);
  const loaded = await load(cleanEvents(verdicts, counts, quarantine), sourceKey);
  counts.loaded = loaded.loaded;
  counts.loadedRecommendations = loaded.loadedRecommendations;
  counts.loadedServedItems = loaded.loadedServedItems;
  counts.loadedFeedback = loaded.loadedFeedback;
  return { counts, quarantine: await quarantine.close() };
}
