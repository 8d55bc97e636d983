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
 *
 * The raw bucket holds two more kinds, written only by the service itself (never accepted from
 * clients: `POST /v1/events` refuses them with `system_event_type`): `recommendation`, one list the
 * recommendation function served, and `feedback`, one item of `POST /v1/feedback`. Every raw line
 * is one of the three kinds: `STORED_EVENT_CONTRACT` (`StoredEvent`, a union on `event_type`)
 * validates any of them, `EVENT_CONTRACT` only what clients may post. The formats are fixed in
 * the design's feedback formats (interaction, recommendation, feedback).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineEventContract, type EventRejection } from '../../../../lambda/platform/events/contract';
import {
  foldedEnum,
  Identifier,
  identifierList,
  IsoTimestamp,
} from '../../../../lambda/platform/events/fields';

export const EVENT_TYPES = ['impression', 'click', 'play', 'like'] as const;
/** Kinds only the service writes: a client that posts one is refused with `system_event_type`. */
export const SYSTEM_EVENT_TYPES = ['recommendation', 'feedback'] as const;
/** Where a served list came from (the recommendation function's `source`). */
export const RECOMMENDATION_SOURCES = ['cache', 'model', 'fallback'] as const;
export const ITEM_TYPES = ['artist', 'song'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type ItemType = (typeof ITEM_TYPES)[number];

/** Most entries in `artist_ids` or `song_ids`. */
export const MAX_LINKED_IDS = 100;

/** Most items of one served list: the recommendation API's largest `limit`. */
export const MAX_RECOMMENDED_ITEMS = 100;

const SYSTEM_TYPES: ReadonlySet<string> = new Set(SYSTEM_EVENT_TYPES);

/**
 * A client's `event_type`: an interaction kind, matched as `foldedEnum` matches it. A kind only the
 * service writes is refused with its own reason, so a client learns it may never send it.
 */
const ClientEventType = z
  .string({ error: 'must be a string' })
  .check((ctx) => {
    const folded = ctx.value.length <= 64 ? ctx.value.trim().toLowerCase() : '';
    if (SYSTEM_TYPES.has(folded)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `${folded} is written by the service only; clients send one of ${EVENT_TYPES.join(', ')}`,
        params: { reason: 'system_event_type' },
      });
    }
  })
  .pipe(foldedEnum(EVENT_TYPES, 'unknown_event_type'));

/** One interaction of a user with a recommended or played item. */
export const InteractionEvent = z.object({
  event_id: Identifier,
  user_id: Identifier,
  item_id: Identifier,
  request_id: Identifier,
  variant: Identifier,
  event_type: ClientEventType,
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

/**
 * The refusal of an event of a kind only the service writes, or undefined: `POST /v1/events` screens
 * every posted event with it before validation, so a whole served list or feedback line is refused
 * for its kind rather than for the first interaction field it lacks.
 */
export function systemEventRejection(input: unknown): EventRejection | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const parsed = ClientEventType.safeParse((input as Record<string, unknown>).event_type);
  const issue = parsed.success ? undefined : parsed.error.issues[0];
  return issue?.code === 'custom' && (issue.params as { reason?: string })?.reason === 'system_event_type'
    ? { ok: false, reason: 'system_event_type', field: 'event_type', message: `event_type ${issue.message}` }
    : undefined;
}

/** What clients may post to `POST /v1/events`: interactions only. */
export const EVENT_CONTRACT = defineEventContract({
  schema: InteractionEvent,
  idField: 'event_id',
  timestampField: 'ts',
});

const issue = (message: string, reason: string, path: PropertyKey[]) => ({
  code: 'custom' as const,
  message,
  params: { reason },
  path,
});

/** One entry of a served list: `position` is its 1-based rank, `score` the cosine similarity. */
export const RecommendedItem = z.object({
  artist_id: Identifier,
  position: z.int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }),
  score: z
    .number({ error: 'must be a number' })
    .min(-1, { error: 'must be in [-1, 1]' })
    .max(1, { error: 'must be in [-1, 1]' }),
});

/**
 * One list the recommendation function answered with (a 200 with at least one item), as it wrote it
 * to its log: `event_id` and `request_id` are the API request id, `items` 1..MAX_RECOMMENDED_ITEMS
 * entries whose positions run 1, 2, 3... in list order.
 */
export const RecommendationEvent = z.object({
  event_type: z.literal('recommendation'),
  event_id: Identifier,
  request_id: Identifier,
  user_id: Identifier,
  variant: Identifier,
  model_version: Identifier,
  source: foldedEnum(RECOMMENDATION_SOURCES, 'invalid_value'),
  items: z
    .array(RecommendedItem, { error: 'must be an array of items' })
    .min(1, { error: 'must hold at least one item' })
    .max(MAX_RECOMMENDED_ITEMS, { error: `must hold at most ${MAX_RECOMMENDED_ITEMS} items` })
    .check((ctx) => {
      ctx.value.forEach((item, i) => {
        if (item.position !== i + 1) {
          ctx.issues.push({
            ...issue(`must be ${i + 1}: positions run 1, 2, 3... in list order`, 'invalid_position', [
              i,
              'position',
            ]),
            input: item.position,
          });
        }
      });
    }),
  ts: IsoTimestamp,
});

/** `fb-` and the hex SHA-256 of request id, artist id and clicked, each on its own line. */
export const FEEDBACK_EVENT_ID_PATTERN = /^fb-[0-9a-f]{64}$/;

/**
 * The id of a feedback line: the same item sent again gets the same id, so the ETL, which keeps
 * one row per event_id, stores it once. Identifiers hold no line break (`fields.ts` refuses
 * control characters), so the joined text names exactly one triple.
 */
export function feedbackEventId(requestId: string, artistId: string, clicked: boolean): string {
  return `fb-${createHash('sha256')
    .update(`${requestId}\n${artistId}\n${String(clicked)}`)
    .digest('hex')}`;
}

/**
 * What a user did with one served item (`POST /v1/feedback`): `variant` is the one the answer
 * named, echoed by the client, or null when it did not echo one.
 */
export const FeedbackEvent = z.object({
  event_type: z.literal('feedback'),
  event_id: Identifier.check((ctx) => {
    if (!FEEDBACK_EVENT_ID_PATTERN.test(ctx.value)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: 'must be fb- and 64 lower-case hex digits (feedbackEventId)',
        params: { reason: 'invalid_id' },
      });
    }
  }),
  request_id: Identifier,
  user_id: Identifier,
  artist_id: Identifier,
  clicked: z.boolean({ error: 'must be true or false' }),
  variant: Identifier.nullish().transform((variant) => variant ?? null),
  ts: IsoTimestamp,
});

export type RecommendedItem = z.output<typeof RecommendedItem>;
export type RecommendationEvent = z.output<typeof RecommendationEvent>;
export type RecommendationEventInput = z.input<typeof RecommendationEvent>;
export type FeedbackEvent = z.output<typeof FeedbackEvent>;

/** The interaction kinds as a member of the union: its event_type already folded (see StoredEvent). */
const StoredInteractionEvent = InteractionEvent.extend({ event_type: z.enum(EVENT_TYPES) });

const StoredEventKinds = z.discriminatedUnion('event_type', [
  StoredInteractionEvent,
  RecommendationEvent,
  FeedbackEvent,
]);

/** Every kind a raw line may hold. */
export const STORED_EVENT_TYPES = [...EVENT_TYPES, ...SYSTEM_EVENT_TYPES] as const;
const STORED_TYPES: ReadonlySet<string> = new Set(STORED_EVENT_TYPES);

/**
 * Any line of the raw bucket. The union picks a kind by the exact `event_type`, so a kind written
 * in another case or with surrounding spaces (which interactions allow, `foldedEnum`) is folded
 * first; any other value is left as it is and refused as `unknown_event_type`.
 */
export const StoredEvent = z.preprocess((input) => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const type = (input as Record<string, unknown>).event_type;
  if (typeof type !== 'string' || STORED_TYPES.has(type) || type.length > 64) return input;
  const folded = type.trim().toLowerCase();
  return STORED_TYPES.has(folded) ? { ...input, event_type: folded } : input;
}, StoredEventKinds);

/** A validated raw line: `event_type` tells which kind (and which table) it is. */
export type StoredEvent = z.output<typeof StoredEvent>;

/** Validates every line of the raw bucket, whichever kind. */
export const STORED_EVENT_CONTRACT = defineEventContract({
  schema: StoredEvent,
  idField: 'event_id',
  timestampField: 'ts',
});
