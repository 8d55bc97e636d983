import { StringDecoder } from 'node:string_decoder';

/** One line of a JSON-lines object, numbered from 1 as editors do. */
export interface Line {
  line: number;
  /** The decoded text, or undefined when the line exceeded the size limit. */
  text?: string;
  /** For an oversized line: its first OVERSIZED_HEAD_CHARS characters, for the quarantine record. */
  head?: string;
  /** For an oversized line: its size in bytes, without its terminator. */
  bytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
const OVERSIZED_HEAD_CHARS = 1024;

/** UTF-8 size of a string, computed only when its length alone cannot settle the question. */
function exceeds(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text, 'utf8') > maxBytes;
}

function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  // Every record starts with a printable character; only then is the full check needed.
  return first <= 0x20 && text.trim() === '';
}

/**
 * Splits a byte stream into lines without ever holding more than one line (at most `maxLineBytes`)
 * plus one chunk: an oversized line is counted and its head kept, the rest skipped. Whitespace-only
 * lines are separators, not records, and are not yielded. A `\r` before the `\n` is dropped.
 * Chunks are decoded whole (a StringDecoder carries characters split across chunks) and cut as
 * strings, and lines come in batches, one per chunk: an await per line would cost more than
 * parsing it.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<Line[]> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  // While skipping the rest of an oversized line: its head and the bytes seen so far.
  let oversized: { head: string; bytes: number } | undefined;
  let lineNo = 0;

  const finish = (text: string, batch: Line[]) => {
    lineNo++;
    if (oversized) {
      const line = text.charCodeAt(text.length - 1) === 0x0d ? text.slice(0, -1) : text;
      batch.push({
        line: lineNo,
        head: (oversized.head + line.slice(0, OVERSIZED_HEAD_CHARS)).slice(0, OVERSIZED_HEAD_CHARS),
        bytes: oversized.bytes + Buffer.byteLength(line, 'utf8'),
      });
      oversized = undefined;
      return;
    }
    const line = text.charCodeAt(text.length - 1) === 0x0d ? text.slice(0, -1) : text;
    if (exceeds(line, maxLineBytes)) {
      batch.push({
        line: lineNo,
        head: line.slice(0, OVERSIZED_HEAD_CHARS),
        bytes: Buffer.byteLength(line, 'utf8'),
      });
    } else if (!isBlank(line)) {
      batch.push({ line: lineNo, text: line });
    }
  };

  for await (const chunk of source) {
    const decoded =
      typeof chunk === 'string' ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    const batch: Line[] = [];
    let start = 0;
    let end = decoded.indexOf('\n');
    if (end !== -1) {
      finish(pending + decoded.slice(0, end), batch);
      pending = '';
      start = end + 1;
      end = decoded.indexOf('\n', start);
      while (end !== -1) {
        finish(decoded.slice(start, end), batch);
        start = end + 1;
        end = decoded.indexOf('\n', start);
      }
    }
    const rest = start === 0 && end === -1 ? decoded : decoded.slice(start);
    if (oversized) {
      if (oversized.head.length < OVERSIZED_HEAD_CHARS) {
        oversized.head += rest.slice(0, OVERSIZED_HEAD_CHARS - oversized.head.length);
      }
      oversized.bytes += Buffer.byteLength(rest, 'utf8');
    } else {
      pending += rest;
      if (exceeds(pending, maxLineBytes)) {
        oversized = {
          head: pending.slice(0, OVERSIZED_HEAD_CHARS),
          bytes: Buffer.byteLength(pending, 'utf8'),
        };
        pending = '';
      }
    }
    if (batch.length > 0) yield batch;
  }
  const tail = decoder.end();
  const batch: Line[] = [];
  if (oversized || pending.length > 0 || tail.length > 0) finish(pending + tail, batch);
  if (batch.length > 0) yield batch;
}
