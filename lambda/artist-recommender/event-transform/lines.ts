import { isUtf8 } from 'node:buffer';
import { LONE_SURROGATE } from '../events/schema';

/** One line of a JSON-lines object, numbered from 1 as editors do. */
export interface Line {
  line: number;
  /** The decoded text, or undefined when the line exceeded the size limit. */
  text?: string;
  /** For an oversized line: its first OVERSIZED_HEAD_CHARS characters, for the quarantine record. */
  head?: string;
  /** For an oversized line: its size in bytes, without its terminator. */
  bytes?: number;
  /**
   * The line holds bytes that are not UTF-8 (or, from a text source, a lone surrogate); each such
   * byte is a lone surrogate in `text`. The line is quarantined, never repaired.
   */
  invalidUtf8?: true;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
const OVERSIZED_HEAD_CHARS = 1024;
const BOM = 0xfeff;
const LF = 0x0a;

/**
 * What stands in the decoded text for a byte that is not part of a valid UTF-8 sequence: a lone
 * surrogate, which valid UTF-8 never decodes to, so that a line holding one can be told from a line
 * holding a real U+FFFD (which is what Buffer#toString and StringDecoder would put in both).
 */
const INVALID_BYTE = '\udfff';

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return 1;
  if (lead < 0xc2 || lead > 0xf4) return 0;
  const continues = (k: number, low = 0x80, high = 0xbf) =>
    i + k < bytes.length && bytes[i + k] >= low && bytes[i + k] <= high;
  if (lead < 0xe0) return continues(1) ? 2 : 0;
  if (lead < 0xf0) {
    // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF): RFC 3629, section 4.
    const ok = continues(1, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf) && continues(2);
    return ok ? 3 : 0;
  }
  const ok =
    continues(1, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf) && continues(2) && continues(3);
  return ok ? 4 : 0;
}

/** Decodes bytes known to hold invalid UTF-8, one INVALID_BYTE per byte that starts no valid sequence. */
function decodeMarkingInvalid(bytes: Buffer): string {
  let text = '';
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
    } else {
      text += bytes.toString('utf8', runStart, i) + INVALID_BYTE;
      runStart = ++i;
    }
  }
  return text + bytes.toString('utf8', runStart, i);
}

/** Bytes at the end of `bytes` that begin a sequence the next chunk may complete. */
function incompleteTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) === 0x80) continue;
    const needs = byte >= 0xf5 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 1;
    return needs > back ? back : 0;
  }
  return 0;
}

/**
 * UTF-8 decoding chunk by chunk, like StringDecoder, that keeps invalid bytes visible (see
 * INVALID_BYTE). A chunk is checked natively with isUtf8 and then decoded in one call; only a chunk
 * that fails the check is walked byte by byte.
 */
class Utf8Decoder {
  private carry: Buffer | undefined;
  /** Whether any invalid byte has been seen. */
  invalid = false;

  write(chunk: Buffer): string {
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const keep = incompleteTail(bytes);
    this.carry = keep > 0 ? Buffer.from(bytes.subarray(bytes.length - keep)) : undefined;
    const body = keep > 0 ? bytes.subarray(0, bytes.length - keep) : bytes;
    if (isUtf8(body)) return body.toString('utf8');
    this.invalid = true;
    return decodeMarkingInvalid(body);
  }

  /** What is left at the end of the input: an unfinished sequence, which is invalid. */
  end(): string {
    if (!this.carry) return '';
    this.invalid = true;
    const left = INVALID_BYTE.repeat(this.carry.length);
    this.carry = undefined;
    return left;
  }
}

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
 * lines are separators, not records, and are not yielded.
 *
 * A line ends at LF, CRLF or a lone CR (a CRLF split across chunks is still one line end), so a file
 * saved with any of the three gives the same lines. A UTF-8 byte order mark at the start of the
 * object is dropped; anywhere else it is text. A line holding bytes that are not UTF-8 is marked
 * (`invalidUtf8`), never repaired.
 *
 * Chunks are decoded whole and cut as strings, and lines come in batches, one per chunk: an await
 * per line would cost more than parsing it.
 */
export async function* splitLines(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<Line[]> {
  const decoder = new Utf8Decoder();
  let pending = '';
  // While skipping the rest of an oversized line: its head and the bytes seen so far.
  let oversized: { head: string; bytes: number } | undefined;
  let lineNo = 0;
  let atStart = true;
  // The last chunk ended with a CR: an LF opening the next one belongs to that line end.
  let afterCR = false;
  // Only once an invalid byte (or, from a text source, any text) has been seen are lines searched
  // for the marks of one: valid input pays nothing for the check.
  let suspect = false;

  const finish = (line: string, batch: Line[]) => {
    lineNo++;
    if (oversized) {
      batch.push({
        line: lineNo,
        head: (oversized.head + line.slice(0, OVERSIZED_HEAD_CHARS)).slice(0, OVERSIZED_HEAD_CHARS),
        bytes: oversized.bytes + Buffer.byteLength(line, 'utf8'),
      });
      oversized = undefined;
    } else if (exceeds(line, maxLineBytes)) {
      batch.push({
        line: lineNo,
        head: line.slice(0, OVERSIZED_HEAD_CHARS),
        bytes: Buffer.byteLength(line, 'utf8'),
      });
    } else if (suspect && LONE_SURROGATE.test(line)) {
      batch.push({ line: lineNo, text: line, invalidUtf8: true });
    } else if (!isBlank(line)) {
      batch.push({ line: lineNo, text: line });
    }
  };

  const cut = (decoded: string): Line[] => {
    const batch: Line[] = [];
    if (atStart && decoded.length > 0) {
      atStart = false;
      if (decoded.charCodeAt(0) === BOM) decoded = decoded.slice(1);
    }
    if (decoded.length === 0) return batch;
    let start = 0;
    if (afterCR) {
      afterCR = false;
      if (decoded.charCodeAt(0) === LF) start = 1;
    }
    // Both positions are searched again only once passed, so a chunk is scanned once for each.
    let lf = decoded.indexOf('\n', start);
    let cr = decoded.indexOf('\r', start);
    let first = true;
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        next = cr + 1;
        if (next === decoded.length) afterCR = true;
        else if (decoded.charCodeAt(next) === LF) next++;
      }
      if (first) {
        finish(pending + decoded.slice(start, end), batch);
        pending = '';
        first = false;
      } else {
        finish(decoded.slice(start, end), batch);
      }
      start = next;
      if (lf !== -1 && lf < start) lf = decoded.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = decoded.indexOf('\r', start);
    }
    const rest = start === 0 ? decoded : decoded.slice(start);
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
    return batch;
  };

  for await (const chunk of source) {
    let decoded: string;
    if (typeof chunk === 'string') {
      decoded = chunk;
      suspect = true;
    } else {
      decoded = decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      suspect ||= decoder.invalid;
    }
    const batch = cut(decoded);
    if (batch.length > 0) yield batch;
  }
  const tail = decoder.end();
  suspect ||= decoder.invalid;
  const batch = cut(tail);
  if (oversized || pending.length > 0) finish(pending, batch);
  if (batch.length > 0) yield batch;
}
