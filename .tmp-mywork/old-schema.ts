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
  | 'oversized_line'
  | 'repeated_field';

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

/** The fields of the contract, in its order. */
export const EVENT_FIELDS = [
  'event_id',
  'user_id',
  'item_id',
  'request_id',
  'variant',
  'event_type',
  'item_type',
  'artist_ids',
  'song_ids',
  'ts',
] as const;
/** The end of a key token: its closing quote and the colon after it. */
const KEY_END = /"\s*:/g;

/** A key named twice in one object: `path` leads from the root to that object. */
export interface RepeatedKey {
  path: (string | number)[];
  key: string;
}

/**
 * The keys of `names` that an object of `text` (valid JSON) names more than once. JSON.parse keeps
 * the last value of a repeated key and drops the others without a word, so
 * `{"event_id":"a","event_id":"b"}` would become event `b` and event `a` would be lost: such an
 * event is refused instead, since which value was meant cannot be told. Keys written with escapes
 * (`"\u0065vent_id"`) are decoded before they are compared.
 */
export function findRepeatedKeys(text: string, names: ReadonlySet<string>): RepeatedKey[] {
  interface Frame {
    object: boolean;
    /** Where this container sits in its parent: a key or an array index. */
    at: string | number;
    /** The last key read (objects), or the index of the current element (arrays). */
    key: string | number;
    seen?: Set<string>;
  }
  const found: RepeatedKey[] = [];
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      let escaped = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x5c) {
          escaped = true;
          end++;
        } else if (d === 0x22) {
          break;
        }
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.object) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        top.key = key;
        if (names.has(key)) {
          top.seen ??= new Set();
          if (top.seen.has(key)) found.push({ path: stack.slice(1).map((frame) => frame.at), key });
          else top.seen.add(key);
        }
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      stack.push({ object: c === 0x7b, at: parent ? parent.key : '', key: 0 });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top?.object) expectKey = true;
      else if (top) top.key = (top.key as number) + 1;
    }
  }
  return found;
}

const EVENT_FIELD_SET: ReadonlySet<string> = new Set(EVENT_FIELDS);

/**
 * The first contract field that the event `text` names twice, or undefined; `value` is what
 * JSON.parse made of it. Every key of the text, however it is spelled, ends with `"` and `:`; so
 * when the text holds no more such ends than the parsed object has keys, no key was repeated. Only
 * the other lines (a repeat, a nested object, a `\":` inside a string) are scanned token by token:
 * the check costs the others one native regex pass.
 */
export function repeatedEventField(text: string, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const ends = text.match(KEY_END)?.length ?? 0;
  if (ends <= Object.keys(value).length) return undefined;
  return findRepeatedKeys(text, EVENT_FIELD_SET).find((repeat) => repeat.path.length === 0)?.key;
}

/** The rejection of an event that names `field` more than once. */
export function repeatedFieldRejection(field: string): Rejection {
  return reject(
    'repeated_field',
    `${field} appears more than once in the event; which value is meant cannot be told`,
    field,
  );
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
