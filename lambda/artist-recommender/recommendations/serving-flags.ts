import type { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import {
  recommenderDefaults,
  recommenderFlagSchema,
  recommenderServing,
  type RecommenderDeployedServing,
} from '../../../lib/designs/artist-recommender/contracts/feature-flags';
import type { FlagReadProblem } from '../../platform/feature-flags/flag-reader';
import { functionFlags } from '../../platform/feature-flags/function-flags';
import type { ServingConfig } from './config';
import type { RecommendDependencies } from './recommend';

/** Gives a request's dependencies the flags' threshold, A/B split and model-on-miss. */
export type ApplyServingFlags = (deps: RecommendDependencies) => Promise<RecommendDependencies>;

/**
 * The recommender's feature flags over its deployed configuration: the score threshold, the
 * variants users are split over (the champion alone while the challenger is switched off), and
 * whether a cache miss may ask the model. Without flags deployed, the configuration as deployed.
 * Reading them never fails a request (`lambda/platform/feature-flags/flag-reader.ts`).
 */
export function servingFlags(
  config: ServingConfig,
  options: {
    readonly onProblem?: (problem: FlagReadProblem, error: unknown) => void;
    readonly wrapClient?: (client: AppConfigDataClient) => AppConfigDataClient;
    readonly now?: () => number;
  } = {},
): ApplyServingFlags {
  const deployed: RecommenderDeployedServing = {
    variants: config.variants,
    scoreThreshold: config.scoreThreshold,
  };
  const flags = functionFlags({
    schema: recommenderFlagSchema(config.variants.map((v) => v.name)),
    settings: config.flags,
    fallback: recommenderDefaults(deployed),
    ...options,
  });
  return async (deps) => {
    const serving = recommenderServing(await flags.current(), deployed);
    return {
      ...deps,
      variants: serving.variants,
      scoreThreshold: serving.scoreThreshold,
      model: serving.modelOnMiss ? deps.model : undefined,
    };
  };
}
