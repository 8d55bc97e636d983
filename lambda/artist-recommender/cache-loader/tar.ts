import { Parser, type ReadEntry } from 'tar';

/** A regular file of an archive: its bytes stream from `body`. */
export interface TarMember {
  /** The path inside the archive, without a leading `./`. */
  readonly name: string;
  readonly size: number;
  readonly body: AsyncIterable<Buffer>;
}

/** Entry types whose body is the file's bytes; directories, links and devices are skipped. */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Reads the regular files of a tar archive (SageMaker's `output.tar.gz`, once gunzipped) one after
 * another, with node-tar's parser. A member's body must be read (or left) before asking for the next
 * member; what is left unread is skipped.
 *
 * The parser never refuses input: `write()` parses the whole chunk at once and pushes the body bytes
 * into the current entry, which buffers them until they are read. Its backpressure is only advice
 * (`write()` returning false, then `'drain'`), so this reader pulls instead: it hands the parser the
 * next input chunk only when the member being read has nothing buffered, or while it looks for the
 * next member. However slow the consumer, at most one input chunk is held, so a multi-GB
 * `recommendations.jsonl` streams in constant memory.
 */
export async function* tarMembers(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarMember> {
  const input = source[Symbol.asyncIterator]();
  // Strict: a damaged archive (a bad checksum, a member cut short) fails instead of being warned about.
  const parser = new Parser({
    strict: true,
    // A parser is only ever handed ReadEntries; Stats are for the archive writer's filter.
    filter: (_path, entry) => 'type' in entry && FILE_TYPES.has(entry.type),
  });
  const entries: ReadEntry[] = [];
  let failure: Error | undefined;
  let sawEndBlocks = false;
  let parserEnded = false;
  let inputEnded = false;
  parser.on('entry', (entry: ReadEntry) => entries.push(entry));
  parser.on('error', (error: Error) => (failure ??= error));
  // The two zero blocks that close an archive: without them the input stopped early.
  parser.on('eof', () => (sawEndBlocks = true));
  parser.on('end', () => (parserEnded = true));

  /** Hands the parser one more input chunk; false once the input is exhausted. */
  const feed = async (): Promise<boolean> => {
    if (inputEnded) return false;
    const next = await input.next();
    if (next.done) {
      inputEnded = true;
      parser.end();
    } else {
      parser.write(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
    }
    if (failure) throw new Error(`bad tar archive: ${failure.message}`);
    return true;
  };

  try {
    for (;;) {
      while (entries.length === 0 && !parserEnded) {
        if (!(await feed())) break;
      }
      const entry = entries.shift();
      if (!entry) {
        if (!sawEndBlocks)
          throw new Error('truncated tar archive: it ends without its end-of-archive blocks');
        return;
      }
      const name = entry.path.replace(/^(\.\/)+/, '');
      let current = true;
      const body = (async function* () {
        for (;;) {
          if (!current) throw new Error(`tar member ${name} was read after moving on to the next member`);
          const chunk = entry.read();
          if (chunk !== null) {
            yield chunk;
          } else if (entry.emittedEnd) {
            return;
          } else if (!(await feed())) {
            throw new Error(`truncated tar archive: member ${name} is cut short`);
          }
        }
      })();
      yield { name, size: entry.size, body };
      current = false;
      // Discards what is left of the body; the parser then moves on as more input is fed.
      entry.resume();
    }
  } finally {
    await input.return?.();
  }
}
