/**
 * The artist recommender's events as its ETL and ingestion API see them: the contract
 * (`lib/designs/artist-recommender/contracts/events.ts`) and the platform's validation of it
 * (`lambda/platform/events/contract.ts`), with the reasons this design's quarantine reports.
 *
 * Bytes that are not UTF-8 are never decoded into something else: the API answers 400 for such a
 * body, and the ETL quarantines such a line as `invalid_utf8`.
 */
import {
  repeatedFieldRejection as platformRepeatedFieldRejection,
  validateEvent as validateAgainst,
  type EventRejectReason,
  type EventRejection,
  type TimestampWindow,
} from '../../platform/events/contract';
import { repeatedTopLevelKey } from '../../platform/events/json-text';
import {
  EVENT_CONTRACT,
  type InteractionEvent,
} from '../../../lib/designs/artist-recommender/contracts/events';

export { identifierProblem, MAX_ID_LENGTH, parseIsoTimestamp } from '../../platform/events/fields';
export { findRepeatedKeys, LONE_SURROGATE, type RepeatedKey } from '../../platform/events/json-text';
export { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FUTURE_SKEW_MS } from '../../platform/events/contract';
export {
  EVENT_FIELDS,
  EVENT_TYPES,
  ITEM_TYPES,
  MAX_LINKED_IDS,
  type EventType,
  type ItemType,
} from '../../../lib/designs/artist-recommender/contracts/events';

/** A validated event: the row shape loaded into PostgreSQL. */
export type CleanEvent = InteractionEvent;

/** Stable machine-readable reasons; the quarantine and the API report them verbatim. */
export type RejectReason =
  | EventRejectReason
  | 'unknown_item_type'
  | 'system_event_type'
  | 'invalid_json'
  | 'invalid_utf8'
  | 'oversized_line';

export type Rejection = EventRejection<RejectReason>;
export type ValidationResult = { ok: true; event: CleanEvent } | Rejection;
export type ValidationOptions = TimestampWindow;

/** Validates one decoded event and returns the row to store, or the first problem found. */
export function validateEvent(input: unknown, options: ValidationOptions): ValidationResult {
  // The contract's enumerations fail with this design's reasons (contracts/events.ts).
  return validateAgainst(EVENT_CONTRACT, input, options) as ValidationResult;
}

/** The first contract field that the event `text` names twice, or undefined (see repeatedTopLevelKey). */
export function repeatedEventField(text: string, value: unknown): string | undefined {
  return repeatedTopLevelKey(text, value, EVENT_CONTRACT.fields);
}

/** The rejection of an event that names `field` more than once. */
export function repeatedFieldRejection(field: string): Rejection {
  return platformRepeatedFieldRejection(field) as Rejection;
}
