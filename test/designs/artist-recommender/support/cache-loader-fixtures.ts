/**
 * Inputs for the cache loader tests and benchmark: `recommendations.jsonl` produced lazily, in
 * chunks, so a hundred thousand users never sit in one string, and S3 responses built from them.
 * The SDK hands the loader a Node stream as the body; a plain Readable is what it reads.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';

export interface SetSpec {
  /** Written in every line's `model_version` and the popularity list. */
  readonly modelVersion: string;
  readonly users: number;
  /** Prefix of every artist id, so lists of two sets can be told apart. */
  readonly itemPrefix: string;
  readonly itemsPerUser?: number;
  /** Replaces the line with this 1-based number by the given text. */
  readonly replaceLines?: ReadonlyMap<number, string>;
  /** The stream fails after this many lines have been produced. */
  readonly failAfterLines?: number;
  /** Lines per chunk handed to the reader. */
  readonly linesPerChunk?: number;
  /**
   * Re-cuts the body into chunks of this many bytes, the way S3 delivers one: lines (and the bytes
   * of a character) then straddle chunks.
   */
  readonly bytesPerChunk?: number;
}

export const userIdOf = (index: number) => `user-${index}`;

export function userLine(spec: SetSpec, index: number): string {
  const count = spec.itemsPerUser ?? 10;
  const items = [];
  for (let rank = 0; rank < count; rank++) {
    items.push({
      artistId: `${spec.itemPrefix}${(index * 7 + rank) % 5000}`,
      score: round(0.99 - rank * 0.05),
    });
  }
  return JSON.stringify({ user_id: userIdOf(index), items, model_version: spec.modelVersion });
}

/** The lines of a set, a chunk at a time. Line n (1-based) is user n - 1. */
export function* recommendationChunks(spec: SetSpec): Generator<string> {
  const perChunk = spec.linesPerChunk ?? 500;
  let chunk: string[] = [];
  for (let index = 0; index < spec.users; index++) {
    const lineNumber = index + 1;
    if (spec.failAfterLines !== undefined && index === spec.failAfterLines) {
      if (chunk.length) yield chunk.join('\n') + '\n';
      throw new Error(`simulated S3 read failure after ${index} lines`);
    }
    chunk.push(spec.replaceLines?.get(lineNumber) ?? userLine(spec, index));
    if (chunk.length >= perChunk) {
      yield chunk.join('\n') + '\n';
      chunk = [];
    }
  }
  if (chunk.length) yield chunk.join('\n') + '\n';
}

export function popularityJson(spec: Pick<SetSpec, 'modelVersion' | 'itemPrefix'>): string {
  const items = Array.from({ length: 50 }, (_, rank) => ({
    artistId: `${spec.itemPrefix}${rank}`,
    score: round(1 - rank / 50),
  }));
  return JSON.stringify({ model_version: spec.modelVersion, items });
}

/** A GetObject answer whose body streams the set (as bytes, the way S3 delivers it). */
export function recommendationsObject(spec: SetSpec, etag: string, gzip = false) {
  const source = Readable.from(
    (function* () {
      for (const chunk of recommendationChunks(spec)) {
        const bytes = Buffer.from(chunk);
        const size = spec.bytesPerChunk ?? bytes.length;
        for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
      }
    })(),
    { objectMode: false },
  );
  if (!gzip) return { Body: source, ETag: etag };
  // Small sets only: the compressed form is built whole.
  const whole = gzipSync(Buffer.from([...recommendationChunks(spec)].join('')));
  return { Body: Readable.from([whole]), ETag: etag, ContentEncoding: 'gzip' };
}

export function popularityObject(spec: Pick<SetSpec, 'modelVersion' | 'itemPrefix'>, etag: string) {
  return { Body: Readable.from([Buffer.from(popularityJson(spec))]), ETag: etag };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * A tar archive of one member whose body is generated a chunk at a time (`size` bytes of `fill`), for
 * members too large to build on disk or in memory.
 */
export function* generatedTar(name: string, size: number, chunkSize: number, fill = 'a'): Generator<Buffer> {
  const header = new Header({
    path: name,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: new Date(0),
    type: 'File',
  });
  header.encode();
  if (!header.block) throw new Error('the tar header was not encoded');
  yield header.block;
  for (let left = size; left > 0; left -= chunkSize) yield Buffer.alloc(Math.min(chunkSize, left), fill);
  // Padding to the block boundary, then the two zero blocks that end an archive.
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}
