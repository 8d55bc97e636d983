/**
 * What the ETL accepts from the raw bucket: any kind of the stored event contract
 * (`STORED_EVENT_CONTRACT` of `lib/designs/artist-recommender/contracts/events.ts`): interactions,
 * which clients post, and the `recommendation` and `feedback` lines the service writes itself.
 *
 * A line whose `event_type` names a service kind (matched as the contract matches it: any case,
 * surrounding spaces) is checked by the stored contract. Every other line is checked exactly as the
 * ingestion API checks a posted event (`../events/schema.ts`, the client contract), so the two
 * still reach the same verdict, reason and message on anything a client can send.
 */
import { repeatedFieldRejection, validateEvent as validateAgainst } from '../../platform/events/contract';
import { repeatedTopLevelKey } from '../../platform/events/json-text';
import {
  EVENT_CONTRACT,
  STORED_EVENT_CONTRACT,
  SYSTEM_EVENT_TYPES,
  type FeedbackEvent,
  type InteractionEvent,
  type RecommendationEvent,
  type StoredEvent,
} from '../../../lib/designs/artist-recommender/contracts/events';
import type { Rejection, ValidationOptions } from '../events/schema';

export type { FeedbackEvent, InteractionEvent, RecommendationEvent, StoredEvent };

export type StoredValidation = { ok: true; event: StoredEvent } | Rejection;

const SYSTEM_TYPES: ReadonlySet<string> = new Set(SYSTEM_EVENT_TYPES);

/** Whether a decoded line claims a kind only the service writes (`recommendation`, `feedback`). */
function isSystemKind(input: unknown): boolean {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const type = (input as Record<string, unknown>).event_type;
  if (typeof type !== 'string' || type.length > 64) return false;
  return SYSTEM_TYPES.has(type) || SYSTEM_TYPES.has(type.trim().toLowerCase());
}

/** Validates one decoded raw line; returns the event to store or the first problem found. */
export function validateStoredEvent(input: unknown, options: ValidationOptions): StoredValidation {
  const verdict = isSystemKind(input)
    ? validateAgainst(STORED_EVENT_CONTRACT, input, options)
    : validateAgainst(EVENT_CONTRACT, input, options);
  return verdict as StoredValidation;
}

/**
 * The first field of the line's contract (see validateStoredEvent) that `text` names twice at its
 * top level, or undefined.
 */
export function repeatedStoredField(text: string, value: unknown): string | undefined {
  const contract = isSystemKind(value) ? STORED_EVENT_CONTRACT : EVENT_CONTRACT;
  return repeatedTopLevelKey(text, value, contract.fields);
}

export function repeatedStoredFieldRejection(field: string): Rejection {
  return repeatedFieldRejection(field) as Rejection;
}

/** The table a stored event is loaded into. */
export type EventTable = 'events' | 'served_items' | 'feedback';

export function tableOf(event: StoredEvent): EventTable {
  if (event.event_type === 'recommendation') return 'served_items';
  if (event.event_type === 'feedback') return 'feedback';
  return 'events';
}

/**
 * The primary key an event is deduplicated by, as its table's: a served list by its request id
 * (every item of it shares it), the other kinds by event_id. Kinds never collide: each has its table.
 */
export function dedupeKey(event: StoredEvent): string {
  const table = tableOf(event);
  const id = event.event_type === 'recommendation' ? event.request_id : event.event_id;
  return `${table}\n${id}`;
}
