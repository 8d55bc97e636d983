import type { ScoredItem } from '../shared/cache-layout';
import type { ModelClient } from './model-client';
import type { RecommendationStore } from './recommendation-store';
import type { RecommendationRequest } from './request';
import { assignVariant, type WeightedVariant } from '../../platform/realtime/variant';

export type Source = 'cache' | 'model' | 'fallback';

export interface Recommendations {
  readonly source: Source;
  readonly variant: string;
  readonly modelVersion: string;
  readonly items: readonly ScoredItem[];
}

/** What went wrong on the way to an answer; reported as metrics and logs, never to the caller. */
export type Degradation = 'cache-error' | 'model-error' | 'cache-write-error' | 'no-version';

export interface RecommendDependencies {
  readonly store: RecommendationStore;
  /** Absent when no model endpoint is deployed. */
  readonly model?: ModelClient;
  readonly variants: readonly WeightedVariant[];
  readonly scoreThreshold: number;
  readonly modelTopK: number;
  readonly modelAnswerTtlSeconds: number;
  readonly onDegradation?: (kind: Degradation, error?: unknown) => void;
}

/**
 * Serves one request: the precomputed list from the cache, else the model (whose answer is cached),
 * else the popularity list of the current set. A list with no item at or above the score threshold
 * counts as no answer, so such a user is served like an unknown one. Resolves undefined when none
 * of them can answer.
 */
export async function recommend(
  deps: RecommendDependencies,
  request: RecommendationRequest,
): Promise<Recommendations | undefined> {
  const { store, model, onDegradation = () => undefined } = deps;
  const variant = assignVariant(request.userId, deps.variants);
  const present = (source: Source, list: { modelVersion: string; items: readonly ScoredItem[] }) => ({
    source,
    variant,
    modelVersion: list.modelVersion,
    items: selectItems(list.items, deps.scoreThreshold, request.limit),
  });

  let version: string | undefined;
  let cacheReachable = true;
  try {
    version = await store.currentVersion();
    if (version === undefined) onDegradation('no-version');
    else {
      const cached = await store.userList(version, variant, request.userId);
      // A list with nothing at or above the threshold is answered like an unknown user's miss.
      const answer = cached && present('cache', cached);
      if (answer && answer.items.length > 0) return answer;
    }
  } catch (error) {
    cacheReachable = false;
    onDegradation('cache-error', error);
  }

  let emptyModelAnswer: Recommendations | undefined;
  if (model) {
    try {
      const answer = await model.recommend(request.userId, variant, deps.modelTopK);
      const presented = present('model', answer);
      // An answer with nothing at or above the threshold gives way to the popularity list, and is
      // not cached: read back, it would only be a miss again.
      if (presented.items.length === 0) {
        emptyModelAnswer = presented;
      } else {
        if (cacheReachable && version !== undefined) {
          await store
            .saveUserList(version, variant, request.userId, answer, deps.modelAnswerTtlSeconds)
            .catch((error: unknown) => onDegradation('cache-write-error', error));
        }
        return presented;
      }
    } catch (error) {
      onDegradation('model-error', error);
    }
  }

  if (cacheReachable && version !== undefined) {
    try {
      const popular = await store.popular(version);
      if (popular) return present('fallback', popular);
    } catch (error) {
      onDegradation('cache-error', error);
    }
  }
  // The endpoint did answer: no items is still an answer, where no source at all is a 503.
  return emptyModelAnswer;
}

/** Keeps items at or above the threshold, best first, at most `limit` of them. */
export function selectItems(items: readonly ScoredItem[], threshold: number, limit: number): ScoredItem[] {
  const kept: ScoredItem[] = [];
  for (const item of items) {
    if (item.score >= threshold) kept.push(item);
  }
  kept.sort((a, b) => b.score - a.score);
  return kept.slice(0, limit);
}
