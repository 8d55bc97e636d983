import { z } from 'zod';
import { ID_PATTERN, MAX_CANDIDATES } from './score-request';

/** What the `modelVersion` of a fallback answer says: the scores are segment click-through rates. */
export const FALLBACK_MODEL_VERSION = 'segment-ctr';

export const AdScore = z.strictObject({
  adId: z.string().regex(ID_PATTERN),
  /** Calibrated click probability from the model, or the segment's (else the global) prior. */
  probability: z.number().min(0).max(1),
});

/** The answer of `POST /v1/ads/score`: one score per candidate, in the request's order. */
export const ScoreResponse = z.strictObject({
  requestId: z.string().min(1),
  /** The A/B variant the user is assigned to, whichever source answered. */
  variant: z.string().min(1),
  modelVersion: z.string().min(1),
  source: z.enum(['model', 'fallback']),
  scores: z.array(AdScore).min(1).max(MAX_CANDIDATES),
});

export type AdScore = z.infer<typeof AdScore>;
export type ScoreResponse = z.infer<typeof ScoreResponse>;
