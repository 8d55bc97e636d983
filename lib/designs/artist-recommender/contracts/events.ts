/**
 * The artist recommender's event contract: one zod schema, which the ingestion API
 * (`lambda/artist-recommender/events`) validates every posted event with and the ETL
 * (`lambda/artist-recommender/event-transform`) validates every raw line with, so both accept and
 * store exactly the same events. The table the ETL loads (`sql/artist-recommender/migrations/
 * 002_events.sql`) and the model code's reading of raw events (`sagemaker/artist_recommender/
 * channels.py`) are checked against it by tests. Bundled into handlers: no aws-cdk-lib here.
 *
 * One event: `event_id`, `user_id`, `item_id`, `request_id`, `variant` (opaque identifiers, kept
 * exactly as sent), `event_type` (impression | click | play | like) and `item_type` (artist | song)
 * (matched ignoring case and surrounding whitespace, stored lower-case), optional `artist_ids[]` /
 * `song_ids[]` (at most MAX_LINKED_IDS each; exact repeats kept once), `ts` (ISO-8601 with a zone
 * designator, stored in UTC with millisecond precision). Fields are checked in this order and the
 * first problem is reported; unknown extra fields are ignored and not stored. The rules themselves
 * are the platform's (`lambda/platform/events/fields.ts`).
 */
import { z } from 'zod';
import { defineEventContract } from '../../../../lambda/platform/events/contract';
import {
  foldedEnum,
  Identifier,
  identifierList,
  IsoTimestamp,
} from '../../../../lambda/platform/events/fields';

export const EVENT_TYPES = ['impression', 'click', 'play', 'like'] as const;
export const ITEM_TYPES = ['artist', 'song'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type ItemType = (typeof ITEM_TYPES)[number];

/** Most entries in `artist_ids` or `song_ids`. */
export const MAX_LINKED_IDS = 100;

/** One interaction of a user with a recommended or played item. */
export const InteractionEvent = z.object({
  event_id: Identifier,
  user_id: Identifier,
  item_id: Identifier,
  request_id: Identifier,
  variant: Identifier,
  event_type: foldedEnum(EVENT_TYPES, 'unknown_event_type'),
  item_type: foldedEnum(ITEM_TYPES, 'unknown_item_type'),
  artist_ids: identifierList(MAX_LINKED_IDS),
  song_ids: identifierList(MAX_LINKED_IDS),
  ts: IsoTimestamp,
});

/** A validated event: what Firehose receives and the ETL loads, one column per field. */
export type InteractionEvent = z.output<typeof InteractionEvent>;
/** An event as a client may send it: enumerations in any case, id lists optional, any ISO zone. */
export type InteractionEventInput = z.input<typeof InteractionEvent>;

/** The fields of the contract, in its order. */
export const EVENT_FIELDS = Object.keys(InteractionEvent.shape) as (keyof InteractionEvent)[];

export const EVENT_CONTRACT = defineEventContract({
  schema: InteractionEvent,
  idField: 'event_id',
  timestampField: 'ts',
});
