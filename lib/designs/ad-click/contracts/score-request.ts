import { z } from 'zod';

/**
 * Candidates one request may score. The model's inference handler refuses more
 * (`sagemaker/ad_click/inference.py`, MAX_CANDIDATES), and one online Feature Store read holds at
 * most 100 record identifiers per feature group, which bounds the segments a request can name.
 */
export const MAX_CANDIDATES = 100;

/** User, ad and advertiser ids: letters, digits, `_`, `.` and `-`, 1 to 64 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/**
 * Devices, placements and ad categories: lower-case slugs, as the training data spells them. `#`
 * is excluded on purpose: it joins a placement and a category into a segment id.
 */
export const SLUG_PATTERN = /^[a-z0-9_-]{1,32}$/;
export const DAYS_OF_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const id = () => z.string().min(1).max(64).regex(ID_PATTERN);
const slug = () => z.string().min(1).max(32).regex(SLUG_PATTERN);

export const AdCandidate = z.strictObject({
  adId: id(),
  advertiserId: id(),
  adCategory: slug(),
});

export const ScoreContext = z.strictObject({
  device: slug(),
  placement: slug(),
  /** Hour of the impression in the user's local time; absent is scored as unknown. */
  hourOfDay: z.int().min(0).max(23).optional(),
  /** Day of the impression in the user's local time; absent is scored as unknown. */
  dayOfWeek: z.enum(DAYS_OF_WEEK).optional(),
});

/** The body of `POST /v1/ads/score`. Unknown keys are refused at every level. */
export const ScoreRequest = z.strictObject({
  userId: id(),
  context: ScoreContext,
  candidates: z.array(AdCandidate).min(1).max(MAX_CANDIDATES),
});

export type AdCandidate = z.infer<typeof AdCandidate>;
export type ScoreContext = z.infer<typeof ScoreContext>;
export type ScoreRequest = z.infer<typeof ScoreRequest>;
