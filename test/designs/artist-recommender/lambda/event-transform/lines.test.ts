import { splitLines, type Line } from '../../../../../lambda/artist-recommender/event-transform/lines';
import { seededRandom } from '../../../../../scripts/support/seeded-random';

/** `data` cut into pieces of `size` bytes: every chunk boundary a stream could produce. */
function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function collect(chunks: (string | Buffer)[], max = 16): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const batch of splitLines(
    (async function* () {
      yield* chunks;
    })(),
    max,
  )) {
    lines.push(...batch);
  }
  return lines;
}

describe('splitLines', () => {
  it('numbers physical lines, skips blank ones and treats CRLF as one line end', async () => {
    expect(await collect(['a\r\n\n  \nb', 'c\n'])).toEqual([
      { line: 1, text: 'a' },
      { line: 4, text: 'bc' },
    ]);
  });

  it('measures the limit in UTF-8 bytes and keeps characters split across chunks', async () => {
    const text = 'é'.repeat(8); // 16 bytes: at the limit
    const bytes = Buffer.from(`${text}\n${text}é\n`);
    const lines = await collect([bytes.subarray(0, 3), bytes.subarray(3, 21), bytes.subarray(21)]);
    expect(lines).toEqual([
      { line: 1, text },
      { line: 2, head: `${text}é`, bytes: 18 },
    ]);
  });

  it('skips the rest of an oversized line, also when it is the last one', async () => {
    const long = 'x'.repeat(40);
    const lines = await collect([
      long.slice(0, 10),
      long.slice(10, 30),
      `${long.slice(30)}\nok\n`,
      'y'.repeat(20),
    ]);
    expect(lines).toEqual([
      { line: 1, head: long, bytes: 40 },
      { line: 2, text: 'ok' },
      { line: 3, head: 'y'.repeat(20), bytes: 20 },
    ]);
  });

  it('ends lines at LF, CRLF and a lone CR alike, wherever the chunks split them', async () => {
    const lines = ['{"a":1}', '', '  ', '{"b":"\u00e9"}', '{"c":3}'];
    const expected = [
      { line: 1, text: '{"a":1}' },
      { line: 4, text: '{"b":"\u00e9"}' },
      { line: 5, text: '{"c":3}' },
    ];
    for (const eol of ['\n', '\r\n', '\r']) {
      for (const trailing of ['', eol]) {
        const data = Buffer.from(lines.join(eol) + trailing);
        for (const size of [1, 2, 3, 5, 64]) {
          expect({ eol, trailing, size, lines: await collect(pieces(data, size), 64) }).toEqual({
            eol,
            trailing,
            size,
            lines: expected,
          });
        }
      }
    }
    // Mixed in one object, too.
    expect(await collect([Buffer.from('a\rb\r\nc\nd\r'), Buffer.from('\ne')])).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'b' },
      { line: 3, text: 'c' },
      { line: 4, text: 'd' },
      { line: 5, text: 'e' },
    ]);
  });

  it('drops a byte order mark at the start of the object, even split across chunks, and nowhere else', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\r\n\ufeff{"b":2}\n')]);
    for (const size of [1, 2, 4, 64]) {
      expect(await collect(pieces(data, size), 64)).toEqual([
        { line: 1, text: '{"a":1}' },
        { line: 2, text: '\ufeff{"b":2}' },
      ]);
    }
    expect(await collect(['\ufeffx\n'])).toEqual([{ line: 1, text: 'x' }]);
  });

  it.each([
    ['a byte that never starts a sequence', [0xff]],
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an overlong three-byte encoding', [0xe0, 0x80, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a five-byte lead', [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a NUL byte next to a bad one', [0x00, 0xfe]],
  ])('marks a line holding %s, and only that line, at every chunk size', async (_, bad) => {
    // Line 1 holds a real U+FFFD and astral characters, which are valid and must stay unmarked.
    const data = Buffer.concat([
      Buffer.from('{"x":"\ufffd\u{1f600}"}\n{"id":"e'),
      Buffer.from(bad),
      Buffer.from('1"}\n{"id":"\u5742"}\n'),
    ]);
    for (const size of [1, 2, 3, 4, 7, 64]) {
      const lines = await collect(pieces(data, size), 64);
      expect(lines.map((l) => [l.line, l.invalidUtf8 ?? false])).toEqual([
        [1, false],
        [2, true],
        [3, false],
      ]);
      expect(lines[0].text).toBe('{"x":"\ufffd\u{1f600}"}');
      expect(lines[2].text).toBe('{"id":"\u5742"}');
    }
  });

  it('marks a sequence left unfinished at the end of the object', async () => {
    const data = Buffer.concat([Buffer.from('ok\nlast'), Buffer.from([0xf0, 0x9f, 0x98])]);
    for (const size of [1, 2, 64]) {
      expect((await collect(pieces(data, size), 64)).map((l) => l.invalidUtf8 ?? false)).toEqual([
        false,
        true,
      ]);
    }
  });

  it('marks a lone surrogate in a text source', async () => {
    expect(await collect(['a\ud800b\n\ud83d', '\ude00\n'], 64)).toEqual([
      { line: 1, text: 'a\ud800b', invalidUtf8: true },
      { line: 2, text: '\u{1f600}' },
    ]);
  });

  it('agrees with a strict UTF-8 decoder on random bytes cut at random places', async () => {
    const random = seededRandom(20260301);
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    // Mostly valid text with line ends, sprinkled with bytes that are often invalid in context.
    const alphabet = ['a', '{', '"', ' ', '\n', '\r', '\r\n', '\u00e9', '\u5742', '\u{1f600}', '\ufffd'].map(
      (c) => Buffer.from(c),
    );
    const noise = [0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff].map((b) => Buffer.from([b]));
    for (let round = 0; round < 300; round++) {
      const parts = [Buffer.from('x')];
      for (let i = 0; i < 60; i++) {
        const pool = random() < 0.1 ? noise : alphabet;
        parts.push(pool[Math.floor(random() * pool.length)]);
      }
      parts.push((random() < 0.1 ? noise : alphabet)[Math.floor(random() * 11) % 10]);
      const data = Buffer.concat(parts);

      const expected: Line[] = [];
      let lineNo = 0;
      let start = 0;
      const close = (end: number) => {
        lineNo++;
        const bytes = data.subarray(start, end);
        let text: string | undefined;
        try {
          text = strict.decode(bytes);
        } catch {
          expected.push({ line: lineNo, text: expect.any(String) as unknown as string, invalidUtf8: true });
          return;
        }
        if (text.trim() !== '') expected.push({ line: lineNo, text });
      };
      for (let i = 0; i < data.length; i++) {
        if (data[i] === 0x0a || data[i] === 0x0d) {
          close(i);
          if (data[i] === 0x0d && data[i + 1] === 0x0a) i++;
          start = i + 1;
        }
      }
      if (start < data.length) close(data.length);

      const cuts: Buffer[] = [];
      for (let at = 0; at < data.length;) {
        const size = 1 + Math.floor(random() * 9);
        cuts.push(data.subarray(at, at + size));
        at += size;
      }
      expect(await collect(cuts, 1 << 20)).toEqual(expected);
    }
  });
});
