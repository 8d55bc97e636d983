import { splitLines, type Line } from '../../../lambda/event-transform/lines';

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
  it('numbers physical lines, skips blank ones and drops CR', async () => {
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
});
