import { readCsv, type CsvRecord } from '../../../../../lambda/artist-recommender/accounts-import/csv';

async function read(chunks: (string | Buffer)[], max?: number): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const batch of readCsv(chunks, max)) out.push(...batch);
  return out;
}

const SAMPLE =
  '\ufeffuser_id,city,note\r\n' +
  'u1,"São Paulo","said ""hi"", then left"\r\n' +
  '\r\n' +
  'u2,"two\nlines",\n' +
  'u3,,""\n' +
  'u4,plain,end';

const EXPECTED: CsvRecord[] = [
  { line: 1, fields: ['user_id', 'city', 'note'] },
  { line: 2, fields: ['u1', 'São Paulo', 'said "hi", then left'] },
  { line: 4, fields: ['u2', 'two\nlines', ''] },
  { line: 6, fields: ['u3', '', ''] },
  { line: 7, fields: ['u4', 'plain', 'end'] },
];

describe('readCsv', () => {
  it('reads quoted fields, doubled quotes, line breaks in quotes, CRLF and a BOM', async () => {
    expect(await read([SAMPLE])).toEqual(EXPECTED);
  });

  it('gives the same records however the bytes are chunked', async () => {
    const bytes = Buffer.from(SAMPLE);
    for (let size = 1; size <= 7; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(await read(chunks)).toEqual(EXPECTED);
    }
  });

  it('reports broken records with their line numbers and goes on at the next line', async () => {
    const records = await read(
      ['a,b\n', 'x,y"z\n', '"q"r,s\n', 'ok,1\n', `${'w'.repeat(50)},2\n`, 'ok,3\n', '"open,4\n'],
      40,
    );
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: 'a quote inside an unquoted field' },
      { line: 3, error: 'characters after a closing quote' },
      { line: 4, fields: ['ok', '1'] },
      { line: 5, error: 'the record is longer than 40 characters' },
      { line: 6, fields: ['ok', '3'] },
      { line: 7, error: 'a quoted field is not closed' },
    ]);
  });

  it('reads an empty stream as no records', async () => {
    expect(await read([])).toEqual([]);
    expect(await read(['\n\n'])).toEqual([]);
  });
});
