/**
 * The event contract of SYSTEM.md, shared by the ingestion API and the ETL transform so that both
 * accept and store exactly the same events.
 *
 * One event: `event_id`, `user_id`, `event_type` (impression | click | play | like), `item_type`
 * (artist | song), `item_id`, optional `artist_ids[]` / `song_ids[]`, `ts` (ISO-8601 with a zone
 * designator), `request_id`, `variant`. Unknown extra fields are ignored (clients may be newer than
 * the pipeline); every listed field is checked for presence and type.
 *
 * Identifiers (`event_id`, `user_id`, `item_id`, `request_id`, `variant` and the entries of
 * `artist_ids` / `song_ids`) are opaque: stored and compared exactly as sent, never trimmed,
 * case-folded, Unicode-normalised or stripped, so `EVT-1`, `evt-1`, `evt.1`, `evt_1` and `ＥＶＴ-1`
 * are five events and the dedupe by `event_id` (here and in PostgreSQL's primary key) never merges
 * two of them. An identifier that cannot be kept exactly as sent is rejected with `invalid_id` and a
 * message saying why, never altered (see `identifierProblem`). Exact repeats inside one id list are
 * kept once.
 *
 * Enumerations (`event_type`, `item_type`) are matched ignoring case and surrounding whitespace and
 * stored lower-case: each names one of a fixed set, so no two different values can merge.
 * Timestamps become UTC ISO-8601 with millisecond precision.
 *
 * Bytes that are not UTF-8 are never decoded into something else: the API answers 400 for such a
 * body, and the ETL quarantines such a line as `invalid_utf8`.
 */

export const EVENT_TYPES = ['impression', 'click', 'play', 'like'] as const;
export const ITEM_TYPES = ['artist', 'song'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type ItemType = (typeof ITEM_TYPES)[number];

/** A validated event: the row shape loaded into PostgreSQL. */
export interface CleanEvent {
  event_id: string;
  user_id: string;
  event_type: EventType;
  item_type: ItemType;
  item_id: string;
  artist_ids: string[];
  song_ids: string[];
  /** UTC, `YYYY-MM-DDTHH:mm:ss.sssZ`. */
  ts: string;
  request_id: string;
  variant: string;
}

/** Stable machine-readable reasons; the quarantine and the API report them verbatim. */
export type RejectReason =
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_field'
  | 'wrong_type'
  | 'invalid_id'
  | 'invalid_utf8'
  | 'unknown_event_type'
  | 'unknown_item_type'
  | 'too_many_ids'
  | 'invalid_timestamp'
  | 'future_timestamp'
  | 'ancient_timestamp'
  | 'oversized_line';

export interface Rejection {
  ok: false;
  reason: RejectReason;
  field?: string;
  message: string;
}

export type ValidationResult = { ok: true; event: CleanEvent } | Rejection;

export interface ValidationOptions {
  /** Epoch ms treated as "now"; injected so that tests and backfills are deterministic. */
  now: number;
  /** Events later than now + this are clock errors. */
  maxFutureSkewMs?: number;
  /** Events older than now - this are replays or broken clocks. */
  maxAgeMs?: number;
}

export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const DEFAULT_MAX_AGE_MS = 365 * 86_400_000;
/** Longest identifier accepted, in characters (Unicode code points). */
export const MAX_ID_LENGTH = 128;
/** Most entries in `artist_ids` or `song_ids`. */
export const MAX_LINKED_IDS = 100;

/** Identifiers as machine-generated traffic writes them: accepted with one regex test. */
const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
/** A UTF-16 surrogate without its partner: text that UTF-8 cannot encode. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
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
 * never changed: identifiers are compared exactly as sent (see the contract above).
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
 * Epoch ms of a timestamp already in the output form (`YYYY-MM-DDTHH:mm:ss.sssZ`, what
 * `toISOString()` writes and most clients send); undefined otherwise. Read digit by digit: this is
 * the hot path of the transform, and Date.parse costs more than the JSON parse of the whole line.
 */
function isCanonicalTimestamp(value: string): number | undefined {
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
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
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

function reject(reason: RejectReason, message: string, field?: string): Rejection {
  return field === undefined ? { ok: false, reason, message } : { ok: false, reason, field, message };
}

function readId(input: Record<string, unknown>, field: string): string | Rejection {
  return checkId(input[field], field);
}

function checkId(value: unknown, field: string): string | Rejection {
  if (value === undefined || value === null) return reject('missing_field', `${field} is required`, field);
  if (typeof value !== 'string') return reject('wrong_type', `${field} must be a string`, field);
  const problem = identifierProblem(value);
  return problem === undefined ? value : reject('invalid_id', `${field} ${problem}`, field);
}

function readEnum<T extends string>(
  input: Record<string, unknown>,
  field: string,
  values: readonly T[],
  reason: RejectReason,
): T | Rejection {
  const value = input[field];
  if (value === undefined || value === null) return reject('missing_field', `${field} is required`, field);
  if (typeof value !== 'string') return reject('wrong_type', `${field} must be a string`, field);
  if ((values as readonly string[]).includes(value)) return value as T;
  const folded = value.length <= 64 ? value.trim().toLowerCase() : '';
  if ((values as readonly string[]).includes(folded)) return folded as T;
  return reject(reason, `${field} must be one of ${values.join(', ')}`, field);
}

function readIdList(input: Record<string, unknown>, field: string): string[] | Rejection {
  const value = input[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return reject('wrong_type', `${field} must be an array of strings`, field);
  if (value.length > MAX_LINKED_IDS) {
    return reject('too_many_ids', `${field} holds more than ${MAX_LINKED_IDS} ids`, field);
  }
  const ids: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const id = checkId(value[i], `${field}[${i}]`);
    if (typeof id !== 'string') return id;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** Validates one decoded event and returns the row to store, or the first problem found. */
export function validateEvent(input: unknown, options: ValidationOptions): ValidationResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return reject('not_an_object', 'an event must be a JSON object');
  }
  const raw = input as Record<string, unknown>;
  // Field by field, in the order of the contract, so the first problem reported is stable.
  const eventId = readId(raw, 'event_id');
  if (typeof eventId !== 'string') return eventId;
  const userId = readId(raw, 'user_id');
  if (typeof userId !== 'string') return userId;
  const itemId = readId(raw, 'item_id');
  if (typeof itemId !== 'string') return itemId;
  const requestId = readId(raw, 'request_id');
  if (typeof requestId !== 'string') return requestId;
  const variant = readId(raw, 'variant');
  if (typeof variant !== 'string') return variant;

  const eventType = readEnum(raw, 'event_type', EVENT_TYPES, 'unknown_event_type');
  if (typeof eventType !== 'string') return eventType;
  const itemType = readEnum(raw, 'item_type', ITEM_TYPES, 'unknown_item_type');
  if (typeof itemType !== 'string') return itemType;

  const artistIds = readIdList(raw, 'artist_ids');
  if (!Array.isArray(artistIds)) return artistIds;
  const songIds = readIdList(raw, 'song_ids');
  if (!Array.isArray(songIds)) return songIds;

  if (raw.ts === undefined || raw.ts === null) return reject('missing_field', 'ts is required', 'ts');
  if (typeof raw.ts !== 'string') return reject('wrong_type', 'ts must be an ISO-8601 string', 'ts');
  const canonical = isCanonicalTimestamp(raw.ts);
  const epoch =
    canonical !== undefined ? canonical : raw.ts.length <= 64 ? parseIsoTimestamp(raw.ts) : undefined;
  if (epoch === undefined) {
    return reject('invalid_timestamp', 'ts must be ISO-8601 with a zone, e.g. 2026-01-31T12:00:00Z', 'ts');
  }
  if (epoch > options.now + (options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS)) {
    return reject('future_timestamp', 'ts is in the future', 'ts');
  }
  if (epoch < options.now - (options.maxAgeMs ?? DEFAULT_MAX_AGE_MS)) {
    return reject('ancient_timestamp', 'ts is older than the accepted age', 'ts');
  }

  return {
    ok: true,
    event: {
      event_id: eventId,
      user_id: userId,
      event_type: eventType,
      item_type: itemType,
      item_id: itemId,
      artist_ids: artistIds,
      song_ids: songIds,
      ts: canonical !== undefined ? raw.ts : new Date(epoch).toISOString(),
      request_id: requestId,
      variant,
    },
  };
}
