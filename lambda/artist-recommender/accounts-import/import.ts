import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { identifierProblem, parseIsoTimestamp } from '../events/schema';
import { readCsv, type CsvRecord } from './csv';

/** The columns of the accounts CSV (scripts/generate-data.ts writes them in this order). */
export const ACCOUNT_COLUMNS = [
  'user_id',
  'date_of_birth',
  'city',
  'state',
  'country',
  'created_at',
] as const;

export interface BadLineSample {
  line: number;
  reason: string;
}

export interface ImportResult {
  /** Data rows read (the header and blank lines excluded), bad ones included. */
  rows: number;
  /** Accounts inserted or changed; rows identical to the stored account change nothing. */
  upserted: number;
  badLines: number;
  badLineSamples: BadLineSample[];
}

export interface ImportOptions {
  /** Above this share of bad rows the import fails and nothing is written. */
  maxBadFraction: number;
  maxSamples: number;
  /** Epoch ms treated as "now" (birth dates and creation times after it are errors). */
  now: number;
}

export const DEFAULT_IMPORT_OPTIONS: Omit<ImportOptions, 'now'> = { maxBadFraction: 0.01, maxSamples: 20 };

export class TooManyBadRowsError extends Error {
  override readonly name = 'TooManyBadRowsError';
  constructor(readonly result: ImportResult) {
    super(
      `${result.badLines} of ${result.rows} rows are bad; nothing was imported; first: ` +
        result.badLineSamples
          .slice(0, 5)
          .map((b) => `line ${b.line}: ${b.reason}`)
          .join('; '),
    );
  }
}

export class InvalidFileError extends Error {
  override readonly name = 'InvalidFileError';
}

const MAX_TEXT = 200;
const MIN_CREATED_AT_MS = Date.UTC(1900, 0, 1);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export type AccountRow = [string, string | null, string | null, string | null, string | null, string];
export type ParsedRow = { ok: true; row: AccountRow } | { ok: false; reason: string };

function text(value: string, name: string): string | null | { reason: string } {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (trimmed.length > MAX_TEXT) return { reason: `${name} is longer than ${MAX_TEXT} characters` };
  if (CONTROL.test(trimmed)) return { reason: `${name} holds a control character` };
  // The CSV reader decodes bytes that are not UTF-8 as U+FFFD: refused, so a name that lost bytes
  // is never stored as if the file had held it.
  if (trimmed.includes('\ufffd')) {
    return { reason: `${name} holds U+FFFD, the mark a decoder leaves for bytes that were not UTF-8` };
  }
  return trimmed;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Validates one data row (fields in ACCOUNT_COLUMNS order). user_id follows the event contract's
 * identifier rule (events/schema identifierProblem): kept exactly as sent, so accounts join the
 * events on the same value, or rejected with the reason; empty optional fields become NULL.
 */
export function parseAccount(fields: string[], now: number): ParsedRow {
  if (fields.length !== ACCOUNT_COLUMNS.length)
    return { ok: false, reason: `${fields.length} fields, expected ${ACCOUNT_COLUMNS.length}` };
  const [rawId, rawDob, ...rest] = fields;
  const rawCreated = rest[3];
  const idProblem = identifierProblem(rawId);
  if (idProblem) return { ok: false, reason: `user_id ${idProblem}` };
  const userId = rawId;

  let dob: string | null = null;
  if (rawDob.trim() !== '') {
    const m = DATE.exec(rawDob.trim());
    if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])))
      return { ok: false, reason: 'date_of_birth is not a YYYY-MM-DD date' };
    if (Number(m[1]) < 1900 || Date.parse(`${m[0]}T00:00:00Z`) > now)
      return { ok: false, reason: 'date_of_birth is out of range' };
    dob = m[0];
  }
  const location: (string | null)[] = [];
  for (const [i, name] of (['city', 'state', 'country'] as const).entries()) {
    const value = text(rest[i], name);
    if (value !== null && typeof value === 'object') return { ok: false, reason: value.reason };
    location.push(value);
  }
  const created = rawCreated.trim();
  // parseIsoTimestamp, not Date.parse: Date.parse turns 2025-02-30 into March 2 and 24:00 into the
  // next day, storing a time that was never in the file.
  const createdMs = TIMESTAMP.test(created) ? parseIsoTimestamp(created) : undefined;
  if (createdMs === undefined)
    return { ok: false, reason: 'created_at is not an ISO-8601 timestamp with a zone' };
  // PostgreSQL has no year 0, and one value it refuses would fail the COPY of the whole file.
  if (createdMs < MIN_CREATED_AT_MS) return { ok: false, reason: 'created_at is out of range' };
  if (createdMs > now + 86_400_000) return { ok: false, reason: 'created_at is in the future' };
  return {
    ok: true,
    row: [userId, dob, location[0], location[1], location[2], new Date(createdMs).toISOString()],
  };
}

/** COPY text format: `\N` is NULL; backslash, tab and line breaks are escaped. */
function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

function checkHeader(record: CsvRecord | undefined): void {
  if (!record) throw new InvalidFileError('the file is empty: expected a header line');
  if (!record.fields) throw new InvalidFileError(`the header cannot be read: ${record.error}`);
  const header = record.fields.map((f) => f.trim().toLowerCase());
  if (header.join(',') !== ACCOUNT_COLUMNS.join(','))
    throw new InvalidFileError(
      `the header is ${JSON.stringify(header.join(','))}, expected ${ACCOUNT_COLUMNS.join(',')}`,
    );
}

/**
 * Streams an accounts CSV into `accounts` in one transaction: valid rows are COPYed into a
 * transaction-local staging table, repeats of a user_id within the file are bad rows (the first
 * one wins), then one upsert by user_id inserts new accounts and updates changed ones only. The
 * same file imported twice therefore changes nothing the second time. Bad rows are counted with
 * their line numbers; above `maxBadFraction` of the rows the transaction is rolled back and
 * TooManyBadRowsError thrown, so nothing changes.
 */
export async function importAccounts(
  client: ClientBase,
  source: AsyncIterable<Buffer | Uint8Array | string>,
  options: ImportOptions,
): Promise<ImportResult> {
  const result: ImportResult = { rows: 0, upserted: 0, badLines: 0, badLineSamples: [] };
  const bad = (line: number, reason: string) => {
    result.badLines++;
    if (result.badLineSamples.length < options.maxSamples) result.badLineSamples.push({ line, reason });
  };

  const records = readCsv(source);
  let headerChecked = false;
  async function* copyRows(): AsyncGenerator<string> {
    for await (const batch of records) {
      let chunk = '';
      for (const record of batch) {
        if (!headerChecked) {
          checkHeader(record);
          headerChecked = true;
          continue;
        }
        result.rows++;
        if (!record.fields) {
          bad(record.line, record.error ?? 'unreadable record');
          continue;
        }
        const parsed = parseAccount(record.fields, options.now);
        if (!parsed.ok) {
          bad(record.line, parsed.reason);
          continue;
        }
        chunk += `${record.line}\t${parsed.row.map(copyValue).join('\t')}\n`;
      }
      if (chunk) yield chunk;
    }
    if (!headerChecked) checkHeader(undefined);
  }

  await client.query('BEGIN');
  try {
    await client.query(
      `CREATE TEMP TABLE accounts_staging (line bigint NOT NULL, user_id text NOT NULL, date_of_birth date,
         city text, state text, country text, created_at timestamptz NOT NULL) ON COMMIT DROP`,
    );
    await pipeline(
      Readable.from(copyRows()),
      client.query(copyFrom(`COPY accounts_staging (line, ${ACCOUNT_COLUMNS.join(', ')}) FROM STDIN`)),
    );
    // Repeats of a user_id are ambiguous (which row is the account?): the first stays, the others
    // are bad rows. Found in SQL so memory does not grow with the number of accounts.
    const repeats = await client.query<{ line: string; first: string; total: string }>(
      `WITH removed AS (
         DELETE FROM accounts_staging s USING (
           SELECT line, min(line) OVER (PARTITION BY user_id) AS first FROM accounts_staging) d
          WHERE s.line = d.line AND d.line <> d.first
          RETURNING s.line, d.first)
       SELECT line, first, count(*) OVER () AS total FROM removed ORDER BY line LIMIT $1`,
      [Math.max(1, options.maxSamples)],
    );
    if (repeats.rows.length > 0) {
      const total = Number(repeats.rows[0].total);
      for (const r of repeats.rows) bad(Number(r.line), `user_id repeats line ${r.first}`);
      result.badLines += total - repeats.rows.length;
    }
    result.badLineSamples.sort((a, b) => a.line - b.line);
    if (result.badLines > options.maxBadFraction * result.rows) throw new TooManyBadRowsError(result);
    const upsert = await client.query(
      `INSERT INTO accounts AS a (${ACCOUNT_COLUMNS.join(', ')})
       SELECT ${ACCOUNT_COLUMNS.join(', ')} FROM accounts_staging
       ON CONFLICT (user_id) DO UPDATE
          SET date_of_birth = EXCLUDED.date_of_birth, city = EXCLUDED.city, state = EXCLUDED.state,
              country = EXCLUDED.country, created_at = EXCLUDED.created_at
        WHERE (a.date_of_birth, a.city, a.state, a.country, a.created_at)
              IS DISTINCT FROM (EXCLUDED.date_of_birth, EXCLUDED.city, EXCLUDED.state, EXCLUDED.country,
                                EXCLUDED.created_at)`,
    );
    result.upserted = upsert.rowCount ?? 0;
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
