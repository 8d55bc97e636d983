import type { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import {
  adClickDefaults,
  adClickFlagSchema,
  adClickServing,
} from '../../../lib/designs/ad-click/contracts/feature-flags';
import type { FlagReadProblem } from '../../platform/feature-flags/flag-reader';
import { functionFlags } from '../../platform/feature-flags/function-flags';
import type { ScoringConfig } from './config';
import type { ScoreDependencies } from './score';

/** Gives a request's dependencies the flags' A/B split and forced fallback. */
export type ApplyScoringFlags = (deps: ScoreDependencies) => Promise<ScoreDependencies>;

/**
 * The ad click feature flags over the deployed configuration: the variants users are split over
 * (the champion alone while the challenger is switched off) and whether the segment-CTR fallback
 * answers without the endpoint. Without flags deployed, the configuration as deployed. Reading them
 * never fails a request (`lambda/platform/feature-flags/flag-reader.ts`).
 */
export function scoringFlags(
  config: ScoringConfig,
  options: {
    readonly onProblem?: (problem: FlagReadProblem, error: unknown) => void;
    readonly wrapClient?: (client: AppConfigDataClient) => AppConfigDataClient;
    readonly now?: () => number;
  } = {},
): ApplyScoringFlags {
  const flags = functionFlags({
    schema: adClickFlagSchema(config.variants.map((v) => v.name)),
    settings: config.flags,
    fallback: adClickDefaults(config.variants),
    ...options,
  });
  return async (deps) => {
    const serving = adClickServing(await flags.current(), config.variants);
    return { ...deps, variants: serving.variants, forceFallback: serving.forceFallback };
  };
}
