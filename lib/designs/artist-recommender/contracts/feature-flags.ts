/**
 * The recommender's feature flags (AppConfig, `AWS.AppConfig.FeatureFlags`), declared once: the
 * stack deploys `recommenderFlags(...)`, AppConfig's validator and the serving function check every
 * document against `recommenderFlagSchema`, and `recommenderServing` turns the values into what a
 * request is served with.
 *
 * - `scoreThreshold` (`value` in [-1, 1]): items scoring below it are not served; off, the
 *   threshold the stack deployed.
 * - `abWeights` (a weight per endpoint variant): the A/B split; off, the deployed weights.
 * - `challengerTraffic`: off, every user gets the champion whatever the weights say.
 * - `modelOnMiss`: off, a cache miss is answered from the popularity list without calling the endpoint.
 */
import type { z } from 'zod';
import {
  CHALLENGER_TRAFFIC_DEFINITION,
  abWeightsDefinition,
  abWeightsSchema,
  abWeightsValue,
  flagValues,
  flagWithAttributes,
  numberIn,
  servingVariants,
  toggle,
  type FlagSet,
} from '../../../../lambda/platform/feature-flags/flag-document';
import type { WeightedVariant } from '../../../../lambda/platform/realtime/variant';

/** The values' schema for an endpoint with these production variants. */
export function recommenderFlagSchema(variantNames: readonly string[]) {
  return flagValues({
    scoreThreshold: flagWithAttributes({ value: numberIn(-1, 1) }),
    abWeights: abWeightsSchema(variantNames),
    challengerTraffic: toggle(),
    modelOnMiss: toggle(),
  });
}

export type RecommenderFlagValues = z.output<ReturnType<typeof recommenderFlagSchema>>;

/** What the serving function was deployed with, and what a flag that is off falls back to. */
export interface RecommenderDeployedServing {
  readonly variants: readonly WeightedVariant[];
  readonly scoreThreshold: number;
}

/** The values that serve exactly the deployed configuration. */
export function recommenderDefaults(deployed: RecommenderDeployedServing): RecommenderFlagValues {
  return {
    scoreThreshold: { enabled: true, value: deployed.scoreThreshold },
    abWeights: abWeightsValue(deployed.variants),
    challengerTraffic: { enabled: true },
    modelOnMiss: { enabled: true },
  };
}

/** The flag set the stack deploys, its defaults serving the deployed configuration. */
export function recommenderFlags(
  deployed: RecommenderDeployedServing,
): FlagSet<ReturnType<typeof recommenderFlagSchema>> {
  const variantNames = deployed.variants.map((v) => v.name);
  return {
    schema: recommenderFlagSchema(variantNames),
    definitions: {
      scoreThreshold: {
        name: 'Score threshold',
        description: 'Items scoring below this cosine similarity are not served; off: the deployed threshold',
        attributes: { value: { constraints: { type: 'number', minimum: -1, maximum: 1 } } },
      },
      abWeights: abWeightsDefinition(variantNames),
      challengerTraffic: CHALLENGER_TRAFFIC_DEFINITION,
      modelOnMiss: {
        name: 'Model on cache miss',
        description: 'Off: a cache miss is answered from the popularity list, the endpoint is not called',
      },
    },
    defaults: recommenderDefaults(deployed),
  };
}

/** What one request is served with. */
export interface RecommenderServing {
  readonly scoreThreshold: number;
  readonly variants: readonly WeightedVariant[];
  readonly modelOnMiss: boolean;
}

export function recommenderServing(
  values: RecommenderFlagValues,
  deployed: RecommenderDeployedServing,
): RecommenderServing {
  return {
    scoreThreshold:
      values.scoreThreshold.enabled && values.scoreThreshold.value !== undefined
        ? values.scoreThreshold.value
        : deployed.scoreThreshold,
    variants: servingVariants(deployed.variants, values.abWeights, values.challengerTraffic),
    modelOnMiss: values.modelOnMiss.enabled,
  };
}
