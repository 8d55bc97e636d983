/**
 * Every table in README.md renders as the table it was written as: GitHub renders a row with too few
 * cells padded with empty ones and drops the extra cells of a row with too many, silently, so a
 * stray `|` in a cell (write it `\|`) or a missing one shifts or loses content without any error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMarkdown } from './markdown';
import { REPO_ROOT } from './working-copy';

const doc = parseMarkdown(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));

describe('README.md tables', () => {
  it('has tables to check', () => {
    expect(doc.tables.length).toBeGreaterThan(0);
  });

  it('gives every row as many cells as its header', () => {
    const problems = doc.tables.flatMap((t) =>
      t.problems.map(
        (p) => `README.md:${p.line} (table at line ${t.line}, ${t.columns} columns): ${p.message}`,
      ),
    );
    expect(problems).toEqual([]);
  });
});
