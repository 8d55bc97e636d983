/**
 * The pure part of the transform: one raw line in, one verdict out. No I/O, so it is tested with
 * golden files and reused by the benchmark.
 */
import { LONE_SURROGATE, type RejectReason, type ValidationOptions } from '../events/schema';
import type { Line } from './lines';
import {
  dedupeKey,
  repeatedStoredField,
  repeatedStoredFieldRejection,
  validateStoredEvent,
  type StoredEvent,
} from './stored-event';

/** One JSON line of the quarantine object. */
export interface QuarantineRecord {
  line: number;
  reason: RejectReason;
  field?: string;
  message: string;
  /** The offending line, cut to RAW_LIMIT characters; bytes that were not UTF-8 appear as U+FFFD. */
  raw: string;
}

export type Verdict =
  | { kind: 'clean'; event: StoredEvent }
  | { kind: 'duplicate'; eventId: string; line: number }
  | { kind: 'quarantine'; record: QuarantineRecord };

export const RAW_LIMIT = 1024;

const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** The line as kept in the quarantine: cut to RAW_LIMIT, each byte that was not UTF-8 shown as U+FFFD. */
function truncate(text: string): string {
  const cut = text.length > RAW_LIMIT ? text.slice(0, RAW_LIMIT) : text;
  return LONE_SURROGATE.test(cut) ? cut.replace(LONE_SURROGATES, '\ufffd') : cut;
}

/** Parses and validates one line; the result is either a clean event or a quarantine record. */
export function parseLine(line: Line, options: ValidationOptions): Verdict {
  if (line.text === undefined) {
    return {
      kind: 'quarantine',
      record: {
        line: line.line,
        reason: 'oversized_line',
        message: `the line holds ${line.bytes} bytes`,
        raw: truncate(line.head ?? ''),
      },
    };
  }
  if (line.invalidUtf8) {
    return {
      kind: 'quarantine',
      record: {
        line: line.line,
        reason: 'invalid_utf8',
        message: 'the line holds bytes that are not valid UTF-8 (shown as U+FFFD in raw)',
        raw: truncate(line.text),
      },
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch {
    return {
      kind: 'quarantine',
      record: {
        line: line.line,
        reason: 'invalid_json',
        message: 'the line is not valid JSON',
        raw: truncate(line.text),
      },
    };
  }
  const repeated = repeatedStoredField(line.text, value);
  const result =
    repeated === undefined ? validateStoredEvent(value, options) : repeatedStoredFieldRejection(repeated);
  if (result.ok) return { kind: 'clean', event: result.event };
  const record: QuarantineRecord = {
    line: line.line,
    reason: result.reason,
    ...(result.field ? { field: result.field } : {}),
    message: result.message,
    raw: truncate(line.text),
  };
  return { kind: 'quarantine', record };
}

/**
 * Drops repeats within one object (Firehose retries and client resends produce them) by the primary
 * key of the event's table (`dedupeKey`: a served list's request id, else the event_id); the first
 * occurrence wins. Ids are compared exactly, as the schema keeps them. Repeats across objects are
 * left to the database's unique keys.
 */
export class Deduper {
  private readonly seen = new Set<string>();

  admit(verdict: Verdict, line: number): Verdict {
    if (verdict.kind !== 'clean') return verdict;
    // One hash lookup instead of has() then add(): a repeat leaves the size unchanged.
    const before = this.seen.size;
    this.seen.add(dedupeKey(verdict.event));
    return this.seen.size === before ? { kind: 'duplicate', eventId: verdict.event.event_id, line } : verdict;
  }
}

/**
 * What one object held. Conservation: input = clean + duplicates + quarantined, and loaded <= clean.
 * The kinds split `clean` and `loaded`: interactions are the rest.
 */
export interface TransformCounts {
  /** Non-blank lines read. */
  input: number;
  /** Valid lines of any kind, first occurrence of their key (see Deduper) in the object. */
  clean: number;
  /** Valid lines whose key already appeared earlier in the object. */
  duplicates: number;
  quarantined: number;
  /** Clean lines newly stored; the rest were already in the database (cross-object repeats). */
  loaded: number;
  /** Clean `recommendation` lines (served lists). */
  recommendations: number;
  /** Clean `feedback` lines. */
  feedback: number;
  /** Served lists newly stored: their items went into served_items. */
  loadedRecommendations: number;
  /** served_items rows newly inserted: the items of loadedRecommendations. */
  loadedServedItems: number;
  /** Feedback lines newly inserted into feedback. */
  loadedFeedback: number;
}

export const emptyCounts = (): TransformCounts => ({
  input: 0,
  clean: 0,
  duplicates: 0,
  quarantined: 0,
  loaded: 0,
  recommendations: 0,
  feedback: 0,
  loadedRecommendations: 0,
  loadedServedItems: 0,
  loadedFeedback: 0,
});

/** Classifies every line of a stream, in order, batch by batch: what the handler and the golden tests share. */
export async function* classifyLines(
  batches: AsyncIterable<Line[]>,
  options: ValidationOptions,
): AsyncGenerator<Verdict[]> {
  const deduper = new Deduper();
  for await (const lines of batches)
    yield lines.map((line) => deduper.admit(parseLine(line, options), line.line));
}
