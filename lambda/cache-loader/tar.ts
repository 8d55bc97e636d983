/**
 * A streaming reader of tar archives, enough for SageMaker's `output.tar.gz` (ustar, with pax or GNU
 * long names): members come one after another, each as a stream of its bytes, and nothing but the
 * current chunk is held. A member's body must be read (or left) before asking for the next member;
 * what is left unread is skipped.
 */
export interface TarMember {
  /** The path inside the archive, without a leading `./`. */
  readonly name: string;
  readonly size: number;
  /** `0` (or empty) for a regular file. */
  readonly type: string;
  readonly body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

export async function* tarMembers(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarMember> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let longName: string | undefined;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header === undefined || header.every((byte) => byte === 0)) return;
    if (header.length < BLOCK) throw new Error('truncated tar header');
    const size = parseSize(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 0x30);
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x' || type === 'L') {
      const data = await reader.read(padded);
      if (data === undefined || data.length < padded) throw new Error('truncated tar archive');
      const text = data.subarray(0, size).toString('utf8');
      longName = type === 'L' ? text.replace(/\0.*$/s, '') : (paxPath(text) ?? longName);
      continue;
    }
    if (type === 'g') {
      await reader.skip(padded);
      continue;
    }

    const name = normalize(longName ?? headerName(header));
    longName = undefined;
    let remaining = size;
    const body = (async function* () {
      while (remaining > 0) {
        const chunk = await reader.readSome(remaining);
        if (chunk === undefined) throw new Error(`truncated tar member ${name}`);
        remaining -= chunk.length;
        yield chunk;
      }
    })();
    yield { name, size, type, body };
    await reader.skip(remaining + (padded - size));
  }
}

function headerName(header: Buffer): string {
  const field = (start: number, end: number) => {
    const bytes = header.subarray(start, end);
    const nul = bytes.indexOf(0);
    return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
  };
  const name = field(0, 100);
  const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? field(345, 500) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function parseSize(field: Buffer): number {
  // GNU base-256 for sizes past 8 GiB.
  if (field[0] & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  const value = text === '' ? 0 : parseInt(text, 8);
  if (!Number.isFinite(value) || value < 0) throw new Error(`bad tar size field ${JSON.stringify(text)}`);
  return value;
}

/** The `path` record of a pax header: `"<length> path=<value>\n"`. */
function paxPath(text: string): string | undefined {
  for (const record of text.split('\n')) {
    const match = /^\d+ path=(.*)$/s.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

function normalize(name: string): string {
  return name.replace(/^(\.\/)+/, '');
}

/** Pulls exact byte counts out of a chunked source. */
class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer | string>) {}

  /** Exactly `n` bytes, fewer at the end of the input, undefined when nothing is left. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buffer.length < n) {
      if (!(await this.pull())) break;
    }
    if (this.buffer.length === 0) return undefined;
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(out.length);
    return out;
  }

  /** Up to `max` bytes, as soon as any are available. */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (this.buffer.length === 0 && !(await this.pull())) return undefined;
    const out = this.buffer.subarray(0, max);
    this.buffer = this.buffer.subarray(out.length);
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readSome(left);
      if (chunk === undefined) return;
      left -= chunk.length;
    }
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }
}
