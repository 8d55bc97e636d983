/**
 * `POST /v1/feedback` of the artist recommender: what a client says a user did with one item of a
 * served list (`{ "feedback": [ <item>, ... ] }`, 1..MAX_FEEDBACK_ITEMS items), and the `feedback`
 * line stored for it (`FeedbackEvent` of `./events.ts`). Items are validated one by one, with the
 * platform's field rules and answers, like `POST /v1/events` (`lambda/platform/events/handler.ts`).
 * Bundled into handlers: no aws-cdk-lib here.
 *
 * One item: `requestId` (the `requestId` of the answer that listed the artist), `userId`,
 * `artistId` (opaque identifiers, kept exactly as sent), `clicked` (true or false), `variant`
 * (optional: the variant the answer named, echoed; stored as sent, or null) and `ts` (optional
 * ISO-8601 with a zone; absent or null: the time the request was received). A `requestId` the
 * service never served, or served long ago, is accepted: the ETL flags it, the client is not told.
 */
import { z } from 'zod';
import { defineEventContract } from '../../../../lambda/platform/events/contract';
import { Identifier, IsoTimestamp } from '../../../../lambda/platform/events/fields';
import { MAX_EVENTS_PER_REQUEST } from '../../../../lambda/platform/events/limits';
import { feedbackEventId, type FeedbackEvent } from './events';

/** EMF metrics of the feedback function, dimension `Variant`: every delivered item, and the clicked ones. */
export const FEEDBACK_ITEMS_METRIC = 'FeedbackItems';
export const CLICKS_METRIC = 'Clicks';

/** The body's array field. */
export const FEEDBACK_BATCH_FIELD = 'feedback';
/** Most items per request: Firehose's PutRecordBatch limit, as for `POST /v1/events`. */
export const MAX_FEEDBACK_ITEMS = MAX_EVENTS_PER_REQUEST;

/** One item of `POST /v1/feedback`, after the server filled in a missing `ts`. */
export const FeedbackItem = z.object({
  requestId: Identifier,
  userId: Identifier,
  artistId: Identifier,
  clicked: z.boolean({ error: 'must be true or false' }),
  variant: Identifier.nullish().transform((variant) => variant ?? null),
  ts: IsoTimestamp,
});

export type FeedbackItem = z.output<typeof FeedbackItem>;
export type FeedbackItemInput = z.input<typeof FeedbackItem>;

export const FEEDBACK_ITEM_CONTRACT = defineEventContract({
  schema: FeedbackItem,
  // The answers name an item by the request it is about (its index tells items apart).
  idField: 'requestId',
  timestampField: 'ts',
});

/**
 * An item as sent, with `ts` set to `receivedAt` when the client left it out or sent null; any
 * other value is the client's, validated as it is. Anything that is not an object is left alone,
 * and refused by validation.
 */
export function withReceivedTime(item: unknown, receivedAt: string): unknown {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  const ts = (item as Record<string, unknown>).ts;
  return ts === undefined || ts === null ? { ...item, ts: receivedAt } : item;
}

/** The line stored for a validated item; resending the same item gives the same event_id. */
export function toFeedbackEvent(item: FeedbackItem): FeedbackEvent {
  return {
    event_type: 'feedback',
    event_id: feedbackEventId(item.requestId, item.artistId, item.clicked),
    request_id: item.requestId,
    user_id: item.userId,
    artist_id: item.artistId,
    clicked: item.clicked,
    variant: item.variant,
    ts: item.ts,
  };
}
