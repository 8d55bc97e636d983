/**
 * The field rules every design's event contract is written with, as zod schemas: identifiers,
 * lists of identifiers, enumerations and timestamps. A rule that fails adds an issue whose
 * `params.reason` is the stable reason the API answers and the ETL quarantines with, and whose
 * message reads after the field's name ("is empty", "must be a string"): `rejectionOf` in
 * `contract.ts` turns the first issue into `{ reason, field, message }`.
 *
 * Identifiers are opaque: stored and compared exactly as sent, never trimmed, case-folded,
 * Unicode-normalised or stripped, so `EVT-1`, `evt-1`, `evt.1`, `evt_1` and `ＥＶＴ-1` are five
 * events and a dedupe by id never merges two of them. An identifier that cannot be kept exactly as
 * sent is refused with `invalid_id` and a message saying why, never altered.
 */
import { z } from 'zod';

/** Longest identifier accepted, in characters (Unicode code points). */
export const MAX_ID_LENGTH = 128;

/** Identifiers as machine-generated traffic writes them: accepted with one regex test. */
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
/**
 * Characters an identifier may not hold: C0 and C1 controls and DEL (NUL among them, which a
 * PostgreSQL text value cannot hold), U+FFFD (what a lossy decoder leaves for bytes that were not
 * UTF-8: ids that lost different bytes would become one) and lone surrogates.
 */
const FORBIDDEN_ID_CHAR =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const EDGE_WHITESPACE = /^\s|\s$/;
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/** What is wrong with a forbidden character, for the rejection message. */
function describeChar(char: string, index: number): string {
  const code = char.charCodeAt(0);
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code === 0) return `holds a NUL character (${name}) at index ${index}`;
  if (code === 0xfffd) {
    return `holds ${name} at index ${index}, the mark a decoder leaves for bytes that were not UTF-8`;
  }
  if (code >= 0xd800 && code <= 0xdfff) {
    return `holds a lone surrogate (${name}) at index ${index}, which UTF-8 cannot encode`;
  }
  return `holds a control character (${name}) at index ${index}`;
}

/**
 * Why `value` is not acceptable as an identifier, or undefined when it is. The value itself is
 * never changed: identifiers are compared exactly as sent.
 */
export function identifierProblem(value: string): string | undefined {
  if (value.length <= MAX_ID_LENGTH && PLAIN_ID.test(value)) return undefined;
  if (value.length === 0) return 'is empty';
  // A code point takes at most two UTF-16 units: twice the limit is over it whatever the text.
  if (value.length > MAX_ID_LENGTH * 2) return `is longer than ${MAX_ID_LENGTH} characters`;
  const forbidden = FORBIDDEN_ID_CHAR.exec(value);
  if (forbidden) return describeChar(forbidden[0], forbidden.index);
  if ([...value].length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (EDGE_WHITESPACE.test(value)) return 'starts or ends with whitespace';
  if (!LETTER_OR_DIGIT.test(value)) return 'has no letter or digit';
  return undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(value: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Epoch ms of a timestamp already in the stored form (`YYYY-MM-DDTHH:mm:ss.sssZ`, what
 * `toISOString()` writes and most clients send); undefined otherwise. Read digit by digit: this is
 * the hot path of the ETL, and Date.parse costs more than the JSON parse of the whole line.
 */
export function canonicalTimestampEpoch(value: string): number | undefined {
  if (value.length !== 24 || value[4] !== '-' || value[7] !== '-' || value[10] !== 'T') return undefined;
  if (value[13] !== ':' || value[16] !== ':' || value[19] !== '.' || value[23] !== 'Z') return undefined;
  const y = digits(value, 0, 4);
  const mo = digits(value, 5, 2);
  const d = digits(value, 8, 2);
  const h = digits(value, 11, 2);
  const mi = digits(value, 14, 2);
  const sec = digits(value, 17, 2);
  const ms = digits(value, 20, 3);
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    sec < 0 ||
    sec > 59 ||
    ms < 0
  ) {
    return undefined;
  }
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS_IN_MONTH[mo - 1] + (leap ? 1 : 0)) return undefined;
  const epoch = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  // Date.UTC reads years 0-99 as 1900-1999.
  return y >= 100 ? epoch : new Date(epoch).setUTCFullYear(y);
}

/** Parses an ISO-8601 timestamp with a zone designator into epoch ms, or undefined if it is not one. */
export function parseIsoTimestamp(value: string): number | undefined {
  const match = ISO_TIMESTAMP.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone] = match;
  const ms = Number((frac + '000').slice(0, 3));
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : normaliseOffset(zone);
  const text = `${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}${offset}`;
  const epoch = Date.parse(text);
  if (!Number.isFinite(epoch)) return undefined;
  // Date.parse rolls 2024-02-30 over to March; a calendar check on the local fields refuses it.
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (probe.getUTCMonth() !== Number(mo) - 1 || probe.getUTCDate() !== Number(d)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return epoch;
}

function normaliseOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '');
  const hh = digits.slice(0, 2);
  const mm = digits.length > 2 ? digits.slice(2, 4) : '00';
  if (Number(hh) > 23 || Number(mm) > 59) return 'invalid';
  return `${zone[0]}${hh}:${mm}`;
}

/** Adds the issue of a failed rule: `reason` is what the rejection reports. */
function fail(issues: z.core.$ZodRawIssue[], input: unknown, reason: string, message: string): void {
  issues.push({ code: 'custom', input, message, params: { reason } });
}

/** A string field; a value of another type fails with "must be a string". */
const text = () => z.string({ error: 'must be a string' });

/** An opaque identifier, kept exactly as sent (see `identifierProblem`). */
export const Identifier = text().check((ctx) => {
  const problem = identifierProblem(ctx.value);
  if (problem !== undefined) fail(ctx.issues, ctx.value, 'invalid_id', problem);
});

/**
 * An optional list of at most `max` identifiers: absent or null is the empty list, and exact
 * repeats are kept once, in the order first sent. A list that is too long is refused before its
 * entries are read; an entry's problem names it by index (`field[3]`).
 */
export function identifierList(max: number) {
  return z
    .array(z.unknown(), { error: 'must be an array of strings' })
    .check((ctx) => {
      if (ctx.value.length > max) fail(ctx.issues, ctx.value, 'too_many_ids', `holds more than ${max} ids`);
    })
    .pipe(z.array(Identifier))
    .nullish()
    .transform((ids) => (ids ? [...new Set(ids)] : []));
}

/**
 * One of `values`, matched ignoring case and surrounding whitespace and stored as listed: each
 * names one of a fixed set, so no two different values can merge. Anything else fails with
 * `reason`.
 */
export function foldedEnum<const T extends readonly [string, ...string[]]>(values: T, reason: string) {
  const allowed: ReadonlySet<string> = new Set(values);
  const message = `must be one of ${values.join(', ')}`;
  return text().transform((value, ctx): T[number] => {
    if (allowed.has(value)) return value;
    // Only short values are folded: an enumeration value is short, a long one cannot match.
    const folded = value.length <= 64 ? value.trim().toLowerCase() : '';
    if (allowed.has(folded)) return folded;
    fail(ctx.issues, value, reason, message);
    return z.NEVER;
  });
}

/**
 * An ISO-8601 timestamp with a zone designator, stored in UTC with millisecond precision
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`). Whether it lies in the accepted window is checked after the
 * event's other fields (`validateEvent`), against the clock of the caller.
 */
export const IsoTimestamp = z.string({ error: 'must be an ISO-8601 string' }).transform((value, ctx) => {
  if (canonicalTimestampEpoch(value) !== undefined) return value;
  const epoch = value.length <= 64 ? parseIsoTimestamp(value) : undefined;
  if (epoch !== undefined) return new Date(epoch).toISOString();
  fail(ctx.issues, value, 'invalid_timestamp', 'must be ISO-8601 with a zone, e.g. 2026-01-31T12:00:00Z');
  return z.NEVER;
});
