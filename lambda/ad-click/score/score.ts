import {
  FALLBACK_MODEL_VERSION,
  SEGMENT_CTR_READ,
  USER_FEATURES_READ,
  segmentId,
  toModelRequest,
  type ScoreRequest,
  type ScoreResponse,
} from '../../../lib/designs/ad-click/contracts';
import { scoreWithFallback, type Degradation } from '../../platform/realtime/fallback';
import type { OnlineRecordReader } from '../../platform/realtime/online-records';
import { assignVariant, type WeightedVariant } from '../../platform/realtime/variant';
import type { ClickModelClient } from './model-client';

export interface ScoreDependencies {
  readonly records: OnlineRecordReader;
  readonly model: ClickModelClient;
  readonly userFeatureGroup: string;
  readonly segmentCtrFeatureGroup: string;
  readonly variants: readonly WeightedVariant[];
  readonly globalPriorCtr: number;
  /** Score from the segment CTRs without calling the endpoint (the `forceSegmentCtrFallback` flag). @default false */
  readonly forceFallback?: boolean;
  readonly onDegradation?: (kind: Degradation, error: unknown) => void;
  /** Records read that could not be used (store errors, unprocessed, broken schema). */
  readonly onUnusableRecords?: (count: number) => void;
}

export interface ScoreOutcome {
  readonly response: ScoreResponse;
  /** Candidates of a fallback answer that got the global prior. */
  readonly globalPriorCount: number;
}

/**
 * Scores a request's candidates: reads the user's features and the candidates' segment CTRs in one
 * online read, asks the model on the user's A/B variant, and falls back to the segment CTRs (else
 * the global prior) when the model cannot answer. A user the store does not hold is scored with
 * unknown features; a store that cannot be read leaves the model with only the request's fields.
 */
export async function scoreAds(
  deps: ScoreDependencies,
  request: ScoreRequest,
  requestId: string,
): Promise<ScoreOutcome> {
  const variant = assignVariant(request.userId, deps.variants);
  const segments = request.candidates.map((c) => segmentId(request.context.placement, c.adCategory));
  const result = await scoreWithFallback({
    candidates: segments,
    readRecords: async () => {
      const read = await deps.records.read({
        user: {
          featureGroupName: deps.userFeatureGroup,
          recordIds: [request.userId],
          schema: USER_FEATURES_READ,
        },
        segments: {
          featureGroupName: deps.segmentCtrFeatureGroup,
          recordIds: segments,
          schema: SEGMENT_CTR_READ,
        },
      });
      if (read.unusable > 0) deps.onUnusableRecords?.(read.unusable);
      return read.records;
    },
    score: (records) =>
      deps.model.score(toModelRequest(request, records?.user.get(request.userId)), variant, requestId),
    prior: (segment, records) => records.segments.get(segment)?.ctr,
    globalPrior: deps.globalPriorCtr,
    skipModel: deps.forceFallback,
    onDegradation: deps.onDegradation,
  });
  return {
    response: {
      requestId,
      variant,
      modelVersion: result.source === 'model' ? result.modelVersion : FALLBACK_MODEL_VERSION,
      source: result.source,
      scores: request.candidates.map((c, i) => ({ adId: c.adId, probability: result.scores[i] })),
    },
    globalPriorCount: result.source === 'fallback' ? result.globalPriorCount : 0,
  };
}
