/**
 * The event-side SQL of the distributed path (`sql/artist-recommender/lake/`): reading a query with
 * its includes expanded, and rendering its parameters from validated values. The same text runs on
 * Athena (the ETL state machine renders the parameters with JSONata, see `athenaQueryString`) and on
 * DuckDB locally (`./duckdb.ts`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One query per output the lake path writes; the name is the file under the lake SQL folder. */
export const LAKE_OUTPUTS = [
  'features/top_artists',
  'features/top_songs',
  'features/feedback_labels',
  'features/unmatched_feedback',
  'features/interactions',
  'features/user_features',
  'snapshot/train_interactions',
  'snapshot/validation_interactions',
] as const;
export type LakeOutput = (typeof LAKE_OUTPUTS)[number];

/** The tables the load queries fill, each from its staged lines (`load/<table>.sql`). */
export const LAKE_TABLES = ['events', 'served_items', 'feedback'] as const;
export type LakeTable = (typeof LAKE_TABLES)[number];

/** The parameters a query may name; each is rendered as a SQL literal both engines read the same way. */
export interface LakeParameters {
  /** Features use events strictly before this instant; the snapshot validates up to it. */
  readonly asOf?: Date;
  /** The snapshot trains on events before it. */
  readonly cutoff?: Date;
  readonly halfLifeDays?: number;
  /** The staged day a load query reads, `YYYY-MM-DD`. */
  readonly day?: string;
}

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;
const INCLUDE = /\{\{>\s*([a-z_/]+)\s*\}\}/g;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `TIMESTAMP 'YYYY-MM-DD hh:mm:ss.sss'` (UTC): a literal Trino and DuckDB both read. */
export function timestampLiteral(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime()))
    throw new Error('a timestamp must be a valid date');
  return `TIMESTAMP '${date.toISOString().replace('T', ' ').replace('Z', '')}'`;
}

function literals(params: LakeParameters): Record<string, string | undefined> {
  const { asOf, cutoff, halfLifeDays, day } = params;
  if (halfLifeDays !== undefined && !(Number.isFinite(halfLifeDays) && halfLifeDays > 0))
    throw new Error('halfLifeDays must be a positive number');
  if (day !== undefined && !(DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`))))
    throw new Error('day must be a date, YYYY-MM-DD');
  return {
    as_of: asOf && timestampLiteral(asOf),
    cutoff: cutoff && timestampLiteral(cutoff),
    half_life_days: halfLifeDays === undefined ? undefined : String(halfLifeDays),
    day: day && `'${day}'`,
  };
}

/** A query's text with every `{{> name}}` replaced by that file's query (recursively, once each path). */
export function readLakeQuery(dir: string, name: string, seen: readonly string[] = []): string {
  if (seen.includes(name)) throw new Error(`lake SQL includes itself: ${[...seen, name].join(' -> ')}`);
  const text = readFileSync(join(dir, `${name}.sql`), 'utf8');
  const body = text
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .trim();
  return body.replace(INCLUDE, (_, include: string) => readLakeQuery(dir, include, [...seen, name]));
}

/** The parameters a query text names. */
export function parametersOf(sql: string): string[] {
  return [...new Set([...sql.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort();
}

/** The query with its parameters rendered; a parameter the query names but `params` lacks is an error. */
export function renderLakeQuery(sql: string, params: LakeParameters): string {
  const values = literals(params);
  return sql.replace(PLACEHOLDER, (_, name: string) => {
    if (!(name in values)) throw new Error(`unknown lake SQL parameter {{${name}}}`);
    const value = values[name];
    if (value === undefined) throw new Error(`the query needs the parameter {{${name}}}`);
    return value;
  });
}
