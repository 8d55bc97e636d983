import { EnvReader } from '../../platform/shared/env-reader';
import { SCORING_ENV, featureGroupEnv } from '../../platform/realtime/function-contract';
import { readVariants, type WeightedVariant } from '../../platform/realtime/variant';
import { readFlagSettings, type FlagSettings } from '../../platform/feature-flags/function-contract';

/**
 * The feature groups the function reads, by the key the serving stack passes them to
 * RealtimeScoring under (`featureGroups: { user, segmentCtr }`).
 */
export const FEATURE_GROUP_KEYS = { user: 'user', segmentCtr: 'segmentCtr' } as const;

/** Everything the function needs, read once from its environment at cold start. */
export interface ScoringConfig {
  readonly endpointName: string;
  readonly variants: readonly WeightedVariant[];
  readonly userFeatureGroup: string;
  readonly segmentCtrFeatureGroup: string;
  readonly featureTimeoutMs: number;
  readonly modelTimeoutMs: number;
  /** The click-through rate of a candidate whose segment has none, in [0, 1]. */
  readonly globalPriorCtr: number;
  /** Where the feature flags are read; absent, every request uses the values above. */
  readonly flags?: FlagSettings;
}

/**
 * Reads the configuration RealtimeScoring writes. A missing or malformed variable is a deployment
 * bug: the cold start fails with every problem named, instead of the function degrading silently.
 */
export function readScoringConfig(env: NodeJS.ProcessEnv): ScoringConfig {
  const read = new EnvReader(env);
  const config: ScoringConfig = {
    endpointName: read.text(SCORING_ENV.endpointName),
    variants: readVariants(read, env, SCORING_ENV.variants),
    userFeatureGroup: read.text(featureGroupEnv(FEATURE_GROUP_KEYS.user)),
    segmentCtrFeatureGroup: read.text(featureGroupEnv(FEATURE_GROUP_KEYS.segmentCtr)),
    featureTimeoutMs: read.integer(SCORING_ENV.featureTimeoutMs, 1, 60_000),
    modelTimeoutMs: read.integer(SCORING_ENV.modelTimeoutMs, 1, 60_000),
    globalPriorCtr: read.number(SCORING_ENV.fallbackPrior, 0, 1),
    flags: readFlagSettings(read, env),
  };
  read.done('scoring configuration');
  return config;
}
