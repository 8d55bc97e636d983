/**
 * The parts of a Markdown document the README checks read: fenced code blocks, inline code spans
 * and pipe tables, each with its 1-based line number. It follows GitHub Flavored Markdown
 * (https://github.github.com/gfm/) as far as these checks need; it is not a general renderer.
 */

export interface FencedBlock {
  /** Line of the opening fence. */
  readonly line: number;
  /** The info string's first word (`sh`), or '' when there is none. */
  readonly language: string;
  /** The info string's other words (`readme-local`, `timeout=60`). */
  readonly tags: readonly string[];
  /** The lines between the fences, joined with '\n'. */
  readonly content: string;
}

export interface CodeSpan {
  readonly line: number;
  readonly text: string;
}

export interface TableProblem {
  readonly line: number;
  readonly message: string;
}

export interface Table {
  /** Line of the header row. */
  readonly line: number;
  readonly columns: number;
  readonly rows: readonly { readonly line: number; readonly cells: readonly string[] }[];
  readonly problems: readonly TableProblem[];
}

export interface Heading {
  readonly line: number;
  readonly level: number;
  readonly text: string;
  /** The fragment GitHub gives the heading (`#two-commands`), without the `#`. */
  readonly anchor: string;
}

export interface MarkdownDocument {
  readonly blocks: readonly FencedBlock[];
  /** ATX headings (`## Title`) outside fenced blocks. */
  readonly headings: readonly Heading[];
  /** Inline code spans outside fenced blocks. */
  readonly codeSpans: readonly CodeSpan[];
  readonly tables: readonly Table[];
  /** A fence opened and never closed (GFM then runs the block to the end of the document). */
  readonly unclosedFenceLine?: number;
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
// A delimiter row: cells of dashes with optional colons, pipes between them (GFM, "Tables").
const DELIMITER_ROW = /^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/**
 * Splits a table row into cells on every unescaped `|`. In GFM a pipe splits cells even inside a code
 * span; `\|` is the way to put one in a cell. One leading and one trailing pipe are delimiters, not
 * empty cells.
 */
export function splitTableRow(row: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 0; i < row.length; i++) {
    const ch = row[i];
    if (ch === '\\' && i + 1 < row.length) {
      cell += ch + row[i + 1];
      i++;
    } else if (ch === '|') {
      cells.push(cell);
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell);
  const trimmed = cells.map((c) => c.trim());
  if (row.trim().startsWith('|')) trimmed.shift();
  if (/(^|[^\\])\|\s*$/.test(row.trimEnd()) && trimmed.length > 0) trimmed.pop();
  return trimmed;
}

function isBlockStart(line: string): boolean {
  return FENCE_OPEN.test(line) || /^ {0,3}#{1,6}(\s|$)/.test(line) || /^ {0,3}>/.test(line);
}

export function parseMarkdown(text: string): MarkdownDocument {
  const lines = text.split(/\r?\n/);
  const blocks: FencedBlock[] = [];
  const codeSpans: CodeSpan[] = [];
  const tables: Table[] = [];
  const headings: Heading[] = [];
  const anchors = new Map<string, number>();
  let unclosedFenceLine: number | undefined;

  let i = 0;
  while (i < lines.length) {
    const open = FENCE_OPEN.exec(lines[i]);
    // A backtick fence's info string may not contain a backtick.
    if (open && !(open[1][0] === '`' && open[2].includes('`'))) {
      const fence = open[1];
      const [language = '', ...tags] = open[2].trim().split(/\s+/).filter(Boolean);
      const start = i;
      const content: string[] = [];
      i++;
      const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
      while (i < lines.length && !close.test(lines[i])) content.push(lines[i++]);
      if (i >= lines.length) unclosedFenceLine = start + 1;
      blocks.push({ line: start + 1, language, tags, content: content.join('\n') });
      i++;
      continue;
    }

    if (lines[i].trimStart().startsWith('|') && i + 1 < lines.length && DELIMITER_ROW.test(lines[i + 1])) {
      const header = splitTableRow(lines[i]);
      const delimiter = splitTableRow(lines[i + 1]);
      const problems: TableProblem[] = [];
      if (delimiter.length !== header.length)
        problems.push({
          line: i + 2,
          message: `the delimiter row has ${delimiter.length} cells and the header ${header.length}: GitHub renders no table`,
        });
      const rows: { line: number; cells: string[] }[] = [];
      const start = i;
      i += 2;
      // GFM ends a table at a blank line or another block; any other line is a row, pipes or not.
      while (i < lines.length && lines[i].trim() !== '' && !isBlockStart(lines[i])) {
        const cells = splitTableRow(lines[i]);
        rows.push({ line: i + 1, cells });
        if (cells.length !== header.length)
          problems.push({
            line: i + 1,
            message: `${cells.length} cells where the header has ${header.length} (write a literal pipe as \\|)`,
          });
        i++;
      }
      for (const n of [start + 1, ...rows.map((r) => r.line)]) collectCodeSpans(lines[n - 1], n, codeSpans);
      tables.push({ line: start + 1, columns: header.length, rows, problems });
      continue;
    }

    const heading = /^ {0,3}(#{1,6})\s+(.*?)(\s+#+)?\s*$/.exec(lines[i]);
    if (heading) {
      // A repeated anchor gets -1, -2... in order of appearance, as GitHub numbers them.
      const base = headingAnchor(heading[2]);
      const seen = anchors.get(base) ?? 0;
      anchors.set(base, seen + 1);
      headings.push({
        line: i + 1,
        level: heading[1].length,
        text: heading[2],
        anchor: seen ? `${base}-${seen}` : base,
      });
    }
    collectCodeSpans(lines[i], i + 1, codeSpans);
    i++;
  }
  return { blocks, headings, codeSpans, tables, unclosedFenceLine };
}

function collectCodeSpans(line: string, lineNumber: number, into: CodeSpan[]): void {
  // Runs of equal backticks open and close a span (GFM, "Code spans"); the text is trimmed of one
  // space each side when both are there.
  const span = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g;
  for (let m = span.exec(line); m; m = span.exec(line)) {
    let text = m[2];
    if (text.length > 2 && text.startsWith(' ') && text.endsWith(' ')) text = text.slice(1, -1);
    into.push({ line: lineNumber, text });
  }
}

/** The script names of every `npm run [--silent] <name>` in `source`. */
export function npmRunNames(source: string): string[] {
  const names: string[] = [];
  const pattern = /\bnpm\s+run(?:-script)?\s+(?:(?:--silent|-s|--if-present)\s+)*([A-Za-z0-9_.:-]+)/g;
  for (let m = pattern.exec(source); m; m = pattern.exec(source)) names.push(m[1]);
  return names;
}

/**
 * The anchor GitHub derives from a heading: lower case, every character that is not a letter, a
 * digit, a space, `-` or `_` dropped, each space turned into `-`.
 */
export function headingAnchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The fragments of every `](#fragment)` link in `source`. */
export function fragmentLinks(source: string): { line: number; fragment: string }[] {
  const found: { line: number; fragment: string }[] = [];
  source.split(/\r?\n/).forEach((text, index) => {
    for (const m of text.matchAll(/\]\(#([^)\s]+)\)/g)) found.push({ line: index + 1, fragment: m[1] });
  });
  return found;
}
