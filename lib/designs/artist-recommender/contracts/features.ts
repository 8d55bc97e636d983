/**
 * The user features the artist recommender keeps in the SageMaker Feature Store, one record per
 * user: the snapshot writes them (`features/user_features.jsonl`, `lambda/artist-recommender/
 * snapshot/export.ts`), the ingest step checks each line against this schema before its PutRecord
 * (`lambda/artist-recommender/feature-store-ingest`), and the feature group's definitions are
 * derived from it (`featureDefinitions` of `lib/platform/constructs/data/feature-definitions.ts`: a
 * string is a String feature, an integer an Integral one). Bundled into the ingest handler: no
 * aws-cdk-lib here.
 *
 * Each message reads after the field's name, as the ingest reports it: `location must be a string`.
 */
import { z } from 'zod';

/** Event times as the ingest accepts them: ISO-8601 with a zone, which Date.parse must also read. */
const ISO_8601_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const TIME_MESSAGE = 'must be an ISO-8601 timestamp with a zone';

const text = () => z.string({ error: 'must be a string' });

export const UserFeatures = z.object({
  user_id: text().min(1, { error: 'is empty' }),
  /** k-anonymous age band, e.g. `25-34`, or `unknown`. */
  age_group: text(),
  /** k-anonymous location, `country/state/city` widened as far as k requires, or `unknown`. */
  location: text(),
  /** Comma-joined artist ids in rank order. */
  top_artists: text(),
  /** Comma-joined song ids in rank order. */
  top_songs: text(),
  /** Clicks, plays and likes: the events that express a preference. */
  interaction_count: z
    .int({ error: 'must be a non-negative integer' })
    .nonnegative({ error: 'must be a non-negative integer' }),
  /** The as-of instant of the feature build that wrote the values. */
  event_time: text()
    .regex(ISO_8601_WITH_ZONE, { error: TIME_MESSAGE })
    .refine((value) => !Number.isNaN(Date.parse(value)), { error: TIME_MESSAGE }),
});

export type UserFeatures = z.infer<typeof UserFeatures>;

/** What the feature group is made from: its features, record identifier and event time. */
export const USER_FEATURE_GROUP = {
  schema: UserFeatures,
  recordIdentifier: 'user_id',
  eventTime: 'event_time',
} as const satisfies {
  schema: typeof UserFeatures;
  recordIdentifier: keyof UserFeatures;
  eventTime: keyof UserFeatures;
};

/** The features, in the schema's order: the fields of every line of `user_features.jsonl`. */
export const USER_FEATURE_NAMES = Object.keys(UserFeatures.shape) as (keyof UserFeatures)[];
