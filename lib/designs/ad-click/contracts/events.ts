/**
 * Ad click prediction's event contract: what an ad server posts to `POST /v1/events` after it shows
 * an ad (`impression`) and when the user clicks it (`click`), as one zod schema that the ingestion
 * function validates every event with (`lambda/ad-click/events`). Clicks join their impression by
 * `requestId` and `adId`; the training labels come from that join. Bundled into the handler: no
 * aws-cdk-lib here.
 *
 * `eventId`, `requestId` and `timestamp` follow the platform's rules
 * (`lambda/platform/events/fields.ts`): ids are opaque and kept exactly as sent,
 * timestamps are ISO-8601 with a zone, stored in UTC with millisecond precision and refused outside
 * the accepted window. `adCategory`, `placement` and `device` are slugs spelled as the scoring
 * request spells them (`SLUG_PATTERN`), so the events join the features the model is served with.
 * `userId`, `adId` and `advertiserId` follow the scoring request's id rule (`ID_PATTERN`): an event
 * about a user or an ad the scorer would refuse could never be joined with a scored request.
 * `type` must be one of the kinds, exactly. Unknown extra fields are ignored and not stored.
 */
import { z } from 'zod';
import { defineEventContract } from '../../../../lambda/platform/events/contract';
import { Identifier, IsoTimestamp } from '../../../../lambda/platform/events/fields';
import { ID_PATTERN, SLUG_PATTERN } from './score-request';

const scoredId = () =>
  z.string({ error: 'must be a string' }).regex(ID_PATTERN, {
    error: 'must be 1 to 64 characters from A-Z a-z 0-9 _ . -, as the scoring request takes it',
  });

const slug = () =>
  z
    .string({ error: 'must be a string' })
    .regex(SLUG_PATTERN, { error: 'must be a lower-case slug: a-z, 0-9, _ and -, 1 to 32 characters' });

/** An ad shown to a user, with what the model scores it by. */
export const ImpressionEvent = z.object({
  eventId: Identifier,
  type: z.literal('impression'),
  userId: scoredId(),
  adId: scoredId(),
  advertiserId: scoredId(),
  adCategory: slug(),
  placement: slug(),
  device: slug(),
  requestId: Identifier,
  timestamp: IsoTimestamp,
});

/** A click on an ad shown by the scoring request `requestId`. */
export const ClickEvent = z.object({
  eventId: Identifier,
  type: z.literal('click'),
  userId: scoredId(),
  adId: scoredId(),
  requestId: Identifier,
  timestamp: IsoTimestamp,
});

export const AdEvent = z.discriminatedUnion('type', [ImpressionEvent, ClickEvent]);

export type ImpressionEvent = z.output<typeof ImpressionEvent>;
export type ClickEvent = z.output<typeof ClickEvent>;
export type AdEvent = z.output<typeof AdEvent>;

export const AD_EVENT_CONTRACT = defineEventContract({
  schema: AdEvent,
  idField: 'eventId',
  timestampField: 'timestamp',
});
