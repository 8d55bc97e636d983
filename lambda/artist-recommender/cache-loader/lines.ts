import { StringDecoder } from 'node:string_decoder';

/**
 * Lines of one chunk of input, with the 1-based number of the first one. A line longer than the
 * limit is `null`: its text was dropped as it streamed past, never held.
 */
export interface LineBatch {
  readonly firstLineNumber: number;
  readonly lines: readonly (string | null)[];
}

const NEWLINE = 0x0a;
const BOM = 0xfeff;

/**
 * Splits a byte stream into lines, one batch per chunk read. The consumer pulls the next batch only
 * when it is done with the previous one, so a slow cache slows the reads (backpressure) and at most
 * one chunk and one partial line are held. Batches instead of single lines keep the per-line cost of
 * the async iteration out of the hot loop.
 *
 * A line longer than `maxLineBytes` comes out as `null`, in its place, so the caller can count it
 * and go on: once the partial line passes the limit, the reader only looks for the next newline
 * (a byte search, no decoding) and drops everything before it. Lengths are measured in UTF-16
 * units; a line within the limit in bytes is never rejected.
 *
 * `\r\n` endings are accepted, and a UTF-8 byte order mark at the start is dropped. A final line without a newline is still a line; the empty string after
 * a final newline is not.
 */
export async function* readLineBatches(
  source: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<LineBatch> {
  let decoder = new StringDecoder('utf8');
  let partial = '';
  /** Inside a line already known to be too long, dropping input until its newline. */
  let skipping = false;
  let lineNumber = 1;
  // A byte order mark opening the file is not part of the first line (JSON.parse would refuse it).
  let atStart = true;
  const strip = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

  for await (const chunk of source) {
    const lines: (string | null)[] = [];
    let rest: Buffer | string = chunk;
    if (skipping) {
      // UTF-8 never uses the newline byte inside a multi-byte character, so the bytes can be searched.
      const end = typeof chunk === 'string' ? chunk.indexOf('\n') : chunk.indexOf(NEWLINE);
      if (end < 0) continue;
      skipping = false;
      lines.push(null);
      rest = typeof chunk === 'string' ? chunk.slice(end + 1) : chunk.subarray(end + 1);
    }
    let decoded = typeof rest === 'string' ? rest : decoder.write(rest);
    if (atStart && decoded.length > 0) {
      atStart = false;
      if (decoded.charCodeAt(0) === BOM) decoded = decoded.slice(1);
    }
    const text = partial + decoded;
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      lines.push(end - start > maxLineBytes ? null : strip(text.slice(start, end)));
      start = end + 1;
    }
    partial = text.slice(start);
    if (partial.length > maxLineBytes) {
      skipping = true;
      partial = '';
      // Drops the bytes of a character cut at the chunk's end: they belong to the dropped line.
      decoder = new StringDecoder('utf8');
    }
    if (lines.length > 0) {
      yield { firstLineNumber: lineNumber, lines };
      lineNumber += lines.length;
    }
  }
  if (skipping) {
    yield { firstLineNumber: lineNumber, lines: [null] };
    return;
  }
  partial += decoder.end();
  if (partial.length > 0) {
    yield { firstLineNumber: lineNumber, lines: [partial.length > maxLineBytes ? null : strip(partial)] };
  }
}
