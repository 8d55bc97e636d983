import { fragmentLinks, headingAnchor, npmRunNames, parseMarkdown, splitTableRow } from './markdown';

describe('splitTableRow', () => {
  it('splits on unescaped pipes, inside code spans too, and drops the outer ones', () => {
    expect(splitTableRow('| a | `b` | c |')).toEqual(['a', '`b`', 'c']);
    expect(splitTableRow('| a \\| b | c |')).toEqual(['a \\| b', 'c']);
    // GFM splits cells at a pipe even inside backticks: this row has three cells.
    expect(splitTableRow('| `x | y` | z |')).toEqual(['`x', 'y`', 'z']);
    expect(splitTableRow('a | b')).toEqual(['a', 'b']);
    expect(splitTableRow('|  | b |')).toEqual(['', 'b']);
  });
});

describe('parseMarkdown', () => {
  it('finds fenced blocks with their info string and the line of the opening fence', () => {
    const doc = parseMarkdown(
      ['# T', '', '```sh readme-local timeout=30', 'echo hi', '```', '', '~~~~', '```', 'x', '~~~~'].join(
        '\n',
      ),
    );
    expect(doc.blocks).toEqual([
      { line: 3, language: 'sh', tags: ['readme-local', 'timeout=30'], content: 'echo hi' },
      { line: 7, language: '', tags: [], content: '```\nx' },
    ]);
    expect(doc.unclosedFenceLine).toBeUndefined();
  });

  it('reports a fence that is never closed', () => {
    expect(parseMarkdown('text\n```sh\necho hi\n').unclosedFenceLine).toBe(2);
  });

  it('accepts a table whose rows match the header, escaped pipes included', () => {
    const doc = parseMarkdown(
      ['| a | b |', '| - | :-: |', '| `x \\| y` | 2 |', '| 3 | 4 |', '', 'after'].join('\n'),
    );
    expect(doc.tables).toHaveLength(1);
    expect(doc.tables[0].columns).toBe(2);
    expect(doc.tables[0].rows.map((r) => r.line)).toEqual([3, 4]);
    expect(doc.tables[0].problems).toEqual([]);
  });

  it('reports a row with an unescaped pipe and a row with a missing cell, by line', () => {
    const doc = parseMarkdown(
      ['intro', '', '| a | b |', '| --- | --- |', '| `x | y` | 2 |', '| 3 |'].join('\n'),
    );
    expect(doc.tables[0].problems).toEqual([
      { line: 5, message: expect.stringMatching(/^3 cells where the header has 2/) },
      { line: 6, message: expect.stringMatching(/^1 cells where the header has 2/) },
    ]);
  });

  it('treats a paragraph line right after a table as a row, as GitHub does', () => {
    const doc = parseMarkdown(
      ['| a | b |', '| --- | --- |', '| 1 | 2 |', 'A sentence meant as a paragraph.'].join('\n'),
    );
    expect(doc.tables[0].problems).toEqual([{ line: 4, message: expect.stringMatching(/^1 cells/) }]);
  });

  it('reports a delimiter row whose width differs from the header (no table renders)', () => {
    const doc = parseMarkdown(['| a | b | c |', '| --- | --- |', '| 1 | 2 | 3 |'].join('\n'));
    expect(doc.tables[0].problems[0]).toEqual({
      line: 2,
      message: expect.stringMatching(/renders no table/),
    });
  });

  it('ignores tables and code spans inside fenced blocks', () => {
    const doc = parseMarkdown(['```', '| a | b |', '| --- | --- |', '| 1 |', '`lib/x.ts`', '```'].join('\n'));
    expect(doc.tables).toEqual([]);
    expect(doc.codeSpans).toEqual([]);
  });

  it('collects inline code spans with their line, in tables too', () => {
    const doc = parseMarkdown(
      ['See `lib/a.ts` and ``b`c``.', '', '| k |', '| - |', '| `test/x/` |'].join('\n'),
    );
    expect(doc.codeSpans).toEqual([
      { line: 1, text: 'lib/a.ts' },
      { line: 1, text: 'b`c' },
      { line: 5, text: 'test/x/' },
    ]);
  });
});

describe('npmRunNames', () => {
  it('finds every npm run, with or without --silent', () => {
    expect(
      npmRunNames(
        '`npm run lint` then npm run --silent recommender:offline -- --k 3; npm run-script e2e:local',
      ),
    ).toEqual(['lint', 'recommender:offline', 'e2e:local']);
    expect(npmRunNames('npm test and npm ci')).toEqual([]);
  });
});

describe('headings and links', () => {
  it('derives the anchors GitHub gives headings, numbering repeats', () => {
    expect(headingAnchor('Configuration: requirements and profiles')).toBe(
      'configuration-requirements-and-profiles',
    );
    expect(headingAnchor('Authentication: IAM (SigV4)')).toBe('authentication-iam-sigv4');
    expect(headingAnchor('5. First request')).toBe('5-first-request');
    expect(headingAnchor('The cache layout (`lambda/shared/cache-layout.ts`)')).toBe(
      'the-cache-layout-lambdasharedcache-layoutts',
    );
    const doc = parseMarkdown(
      ['# A', '## Notes', '```', '## not a heading', '```', '### Notes ##'].join('\n'),
    );
    expect(doc.headings.map((h) => [h.line, h.level, h.anchor])).toEqual([
      [1, 1, 'a'],
      [2, 2, 'notes'],
      [6, 3, 'notes-1'],
    ]);
  });

  it('finds fragment links with their line', () => {
    expect(fragmentLinks('see [Costs](#costs)\nand [x](https://a.b/#c) [y](#two-commands).')).toEqual([
      { line: 1, fragment: 'costs' },
      { line: 2, fragment: 'two-commands' },
    ]);
  });
});
