/**
 * A design's event contract: one zod schema of one event, declared once in the design's
 * `contracts/events.ts`, which the ingestion API validates every event with and the design's ETL
 * validates every stored line with, so the two cannot disagree on what an event is.
 *
 * Validation reports the first problem only, in the order the schema lists its fields, as
 * `{ reason, field, message }`: a stable machine-readable reason, the path of the field
 * (`tags[3]`), and a sentence that starts with that path. Unknown extra fields are ignored
 * (clients may be newer than the pipeline) and left out of the event that is stored.
 */
import { z } from 'zod';
import { canonicalTimestampEpoch, IsoTimestamp } from './fields';

/**
 * Why an event was refused: what the API answers and the ETL quarantines, verbatim. A design's
 * enumerations add their own (`foldedEnum`'s `reason`).
 */
export type EventRejectReason =
  | 'not_an_object'
  | 'missing_field'
  | 'wrong_type'
  | 'invalid_id'
  | 'invalid_value'
  | 'too_many_ids'
  | 'unknown_event_type'
  | 'invalid_timestamp'
  | 'future_timestamp'
  | 'ancient_timestamp'
  | 'repeated_field';

export interface EventRejection<R extends string = string> {
  ok: false;
  reason: R;
  field?: string;
  message: string;
}

export type EventVerdict<T, R extends string = string> = { ok: true; event: T } | EventRejection<R>;

/** The instants an event's timestamp may hold. */
export interface TimestampWindow {
  /** Epoch ms treated as "now"; injected so that tests and backfills are deterministic. */
  now: number;
  /** Events later than now + this are clock errors. @default DEFAULT_MAX_FUTURE_SKEW_MS */
  maxFutureSkewMs?: number;
  /** Events older than now - this are replays or broken clocks. @default DEFAULT_MAX_AGE_MS */
  maxAgeMs?: number;
}

export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const DEFAULT_MAX_AGE_MS = 365 * 86_400_000;

type EventUnion = z.ZodDiscriminatedUnion<readonly [z.ZodObject, ...z.ZodObject[]]>;

/**
 * The schemas an event may have: one object, or objects told apart by a discriminator field,
 * optionally behind a preprocessing step (`z.preprocess`) that normalises the discriminator.
 */
export type EventSchema = z.ZodObject | EventUnion | z.ZodPreprocess<EventUnion>;

type FieldOf<T> = Extract<keyof T, string>;

export interface EventContract<S extends EventSchema = EventSchema> {
  readonly schema: S;
  /** The field that names an event: the API's answers refer to events by it. */
  readonly idField: FieldOf<z.output<S>>;
  /** The event's `IsoTimestamp` field, checked against the accepted window. */
  readonly timestampField: FieldOf<z.output<S>>;
  /** Every top-level field of the contract: an event that names one twice is refused. */
  readonly fields: ReadonlySet<string>;
  /** `schema.safeParse`, through the schema compiled on first use (see defineEventContract). */
  readonly safeParse: (input: unknown) => z.ZodSafeParseResult<z.output<S>>;
}

function objectsOf(schema: EventSchema): readonly z.ZodObject[] {
  if (schema instanceof z.ZodObject) return [schema];
  return schema instanceof z.ZodPipe ? schema.out.options : schema.options;
}

/**
 * Declares a design's contract. Fails at load, naming each problem, when the id or timestamp field
 * is not a field of every kind of event, or the timestamp field is not an `IsoTimestamp`.
 */
export function defineEventContract<S extends EventSchema>(definition: {
  schema: S;
  idField: FieldOf<z.output<S>>;
  timestampField: FieldOf<z.output<S>>;
}): EventContract<S> {
  const objects = objectsOf(definition.schema);
  const problems: string[] = [];
  objects.forEach((object, i) => {
    const kind = objects.length > 1 ? `event kind ${i}` : 'the event';
    if (!(definition.idField in object.shape)) problems.push(`${kind} has no ${definition.idField}`);
    if (object.shape[definition.timestampField] !== IsoTimestamp) {
      problems.push(`${definition.timestampField} of ${kind} must be an IsoTimestamp`);
    }
  });
  if (problems.length > 0) throw new Error(`invalid event contract: ${problems.join('; ')}`);
  // The ETL validates every stored line: zod's compiled fast path parses a valid event about ten
  // times faster than the schema's interpreter, and hands any event it would refuse back to the
  // interpreter, so the issues reported are the same. Compiled on first use, not at every import.
  let compiled: S | undefined;
  return {
    ...definition,
    fields: new Set(objects.flatMap((object) => Object.keys(object.shape))),
    safeParse: (input) =>
      (compiled ??= z.compile(definition.schema)).safeParse(input) as z.ZodSafeParseResult<z.output<S>>,
  };
}

/** `a.b[3]` for the path `['a', 'b', 3]`; undefined for the event itself. */
export function fieldPath(path: readonly PropertyKey[]): string | undefined {
  let text = '';
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? undefined : text;
}

function reject(reason: string, message: string, field?: string): EventRejection {
  return field === undefined ? { ok: false, reason, message } : { ok: false, reason, field, message };
}

/** The value at `path` in `input`, where an issue was raised. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * The rejection that an issue of a contract's schema stands for; `input` is the event that was
 * validated. (zod can keep each issue's input, `reportInput`, but that option alone makes parsing
 * many times slower: the input is read back by path instead, for the one issue reported.)
 */
export function rejectionOf(issue: z.core.$ZodIssue, input: unknown): EventRejection {
  const field = fieldPath(issue.path);
  if (field === undefined) return reject('not_an_object', 'an event must be a JSON object');
  // A discriminated union reports a bad discriminator at its path, like a field of its own.
  const union = issue.code === 'invalid_union' && issue.discriminator !== undefined;
  if (issue.code === 'invalid_type' || union) {
    const value = valueAt(input, issue.path);
    if (value === undefined || value === null) return reject('missing_field', `${field} is required`, field);
    if (union && typeof value !== 'string') return reject('wrong_type', `${field} must be a string`, field);
  }
  switch (issue.code) {
    case 'invalid_type':
      return reject('wrong_type', `${field} ${issue.message}`, field);
    case 'invalid_union': {
      const options = ('options' in issue ? (issue.options ?? []) : []).map(String).join(', ');
      if (union) return reject('unknown_event_type', `${field} must be one of ${options}`, field);
      break;
    }
    case 'custom': {
      const reason = (issue.params as { reason?: string } | undefined)?.reason;
      if (reason !== undefined) return reject(reason, `${field} ${issue.message}`, field);
      break;
    }
  }
  return reject('invalid_value', `${field} ${issue.message}`, field);
}

/**
 * Validates one decoded event against the contract and the timestamp window; returns the event to
 * store (the schema's output) or the first problem found.
 */
export function validateEvent<S extends EventSchema>(
  contract: EventContract<S>,
  input: unknown,
  window: TimestampWindow,
): EventVerdict<z.output<S>> {
  const parsed = contract.safeParse(input);
  if (!parsed.success) return rejectionOf(parsed.error.issues[0], input);
  const event = parsed.data;
  const field = contract.timestampField;
  // IsoTimestamp's output is always in the canonical form (defineEventContract checks the field).
  const epoch = canonicalTimestampEpoch(event[field] as string) as number;
  if (epoch > window.now + (window.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS)) {
    return reject('future_timestamp', `${field} is in the future`, field);
  }
  if (epoch < window.now - (window.maxAgeMs ?? DEFAULT_MAX_AGE_MS)) {
    return reject('ancient_timestamp', `${field} is older than the accepted age`, field);
  }
  return { ok: true, event };
}

/** The rejection of an event that names `field` more than once. */
export function repeatedFieldRejection(field: string): EventRejection {
  return reject(
    'repeated_field',
    `${field} appears more than once in the event; which value is meant cannot be told`,
    field,
  );
}

/** The event's id, when the client sent it as a string: a rejection names the event it refers to. */
export function rawEventId(contract: EventContract, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as Record<string, unknown>)[contract.idField];
  return typeof id === 'string' ? id.slice(0, 256) : undefined;
}
