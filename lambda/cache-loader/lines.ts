import { StringDecoder } from 'node:string_decoder';

/** Lines of one chunk of input, with the 1-based number of the first one. */
export interface LineBatch {
  readonly firstLineNumber: number;
  readonly lines: readonly string[];
}

export class LineTooLongError extends Error {
  constructor(lineNumber: number, maxLineBytes: number) {
    super(`line ${lineNumber} is longer than ${maxLineBytes} bytes`);
    this.name = 'LineTooLongError';
  }
}

/**
 * Splits a byte stream into lines, one batch per chunk read. The consumer pulls the next batch only
 * when it is done with the previous one, so a slow cache slows the reads (backpressure) and at most
 * one chunk and one partial line are held. Batches instead of single lines keep the per-line cost of
 * the async iteration out of the hot loop.
 *
 * `\r\n` endings are accepted. A final line without a newline is still a line; the empty string after
 * a final newline is not.
 */
export async function* readLineBatches(
  source: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let lineNumber = 1;
  const strip = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

  for await (const chunk of source) {
    const text = partial + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines: string[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      lines.push(strip(text.slice(start, end)));
      start = end + 1;
    }
    partial = text.slice(start);
    // Measured in UTF-16 units; a line within the limit in bytes is never rejected.
    if (partial.length > maxLineBytes) throw new LineTooLongError(lineNumber + lines.length, maxLineBytes);
    if (lines.length > 0) {
      yield { firstLineNumber: lineNumber, lines };
      lineNumber += lines.length;
    }
  }
  partial += decoder.end();
  if (partial.length > 0) yield { firstLineNumber: lineNumber, lines: [strip(partial)] };
}
