/**
 * Markdown the way prettier writes it (`prettier --check` passes on a generated page as it is):
 * tables padded to their widest cell, a blank line between blocks, `-` for list items.
 */

/** A table cell's text: a pipe would end the cell, a line break the row. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** A table with its columns padded, as prettier aligns them. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => header.map((_, i) => cell(row[i] ?? '')));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]) => `| ${row.map((text, i) => text.padEnd(widths[i])).join(' | ')} |`;
  const [head, ...body] = cells;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function bullets(items: readonly string[]): string {
  return items.map((item) => `- ${item}`).join('\n');
}

/** Inline code. */
export const code = (text: string): string => `\`${text}\``;

/** Blocks joined as a document: a blank line between them, one newline at the end. */
export function document(blocks: readonly (string | undefined | false)[]): string {
  return `${blocks.filter((block): block is string => typeof block === 'string' && block !== '').join('\n\n')}\n`;
}

/** 5000000 -> `5,000,000`; fractions to at most `digits` places, without trailing zeros. */
export function formatNumber(value: number, digits = 2): string {
  const [whole, fraction = ''] = (Math.round(value * 10 ** digits) / 10 ** digits).toFixed(digits).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const trimmed = fraction.replace(/0+$/, '');
  return trimmed ? `${grouped}.${trimmed}` : grouped;
}

/** 0.999 -> `99.9%`. */
export function percent(share: number): string {
  return `${formatNumber(share * 100, 3)}%`;
}

/** 1_000_000_000_000 -> `1 TB` (decimal units, as AWS bills them). */
export function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${formatNumber(value)} ${units[unit]}`;
}

/** Seconds as the largest whole unit: `4 h`, `90 s`. */
export function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${formatNumber(seconds / 3600)} h`;
  if (seconds % 60 === 0) return `${formatNumber(seconds / 60)} min`;
  return `${formatNumber(seconds)} s`;
}

/** `1 day`, `14 days`. */
export function count(value: number, unit: string): string {
  return `${formatNumber(value)} ${unit}${value === 1 ? '' : 's'}`;
}
