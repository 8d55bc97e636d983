import { z } from 'zod';
import { ID_PATTERN } from './score-request';

/**
 * Event times as Feature Store takes them in a String feature: `yyyy-MM-dd'T'HH:mm:ssZ` or
 * `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (EventTimeFeatureName,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateFeatureGroup.html).
 */
export const EVENT_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const eventTime = () => z.string().regex(EVENT_TIME_PATTERN);

/** A segment: the placement and the ad category an impression falls in. */
export function segmentId(placement: string, adCategory: string): string {
  return `${placement}#${adCategory}`;
}
/** Two slugs (`SLUG_PATTERN`) joined by `#`. */
export const SEGMENT_ID_PATTERN = /^[a-z0-9_-]{1,32}#[a-z0-9_-]{1,32}$/;

/**
 * The user feature group, one record per user. An empty string is a value the model has no row
 * for, like a user the group does not hold.
 */
export const UserFeatures = z.object({
  user_id: z.string().regex(ID_PATTERN),
  age_group: z.string().max(32),
  country: z.string().max(8),
  event_time: eventTime(),
});

/** The segment click-through-rate group, one record per placement and ad category. */
export const SegmentCtr = z.object({
  segment_id: z.string().regex(SEGMENT_ID_PATTERN),
  /** Clicks over impressions, smoothed towards the global rate by the pipeline that writes it. */
  ctr: z.number().min(0).max(1),
  impressions: z.int().min(0),
  event_time: eventTime(),
});

export type UserFeatures = z.infer<typeof UserFeatures>;
export type SegmentCtr = z.infer<typeof SegmentCtr>;

/** What a feature group is made from: its features, record identifier and event time. */
export interface FeatureGroupContract<S extends z.ZodObject> {
  readonly schema: S;
  readonly recordIdentifier: keyof z.infer<S> & string;
  readonly eventTime: keyof z.infer<S> & string;
}

export const USER_FEATURE_GROUP: FeatureGroupContract<typeof UserFeatures> = {
  schema: UserFeatures,
  recordIdentifier: 'user_id',
  eventTime: 'event_time',
};

export const SEGMENT_CTR_FEATURE_GROUP: FeatureGroupContract<typeof SegmentCtr> = {
  schema: SegmentCtr,
  recordIdentifier: 'segment_id',
  eventTime: 'event_time',
};

/** The features the scoring function reads online: what the model and the fallback need, nothing more. */
export const USER_FEATURES_READ = UserFeatures.pick({ age_group: true, country: true });
export const SEGMENT_CTR_READ = SegmentCtr.pick({ ctr: true });
