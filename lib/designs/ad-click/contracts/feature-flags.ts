/**
 * The ad click predictor's feature flags (AppConfig, `AWS.AppConfig.FeatureFlags`), declared once:
 * the stack deploys `adClickFlags(...)`, AppConfig's validator and the scoring function check every
 * document against `adClickFlagSchema`, and `adClickServing` turns the values into what a request
 * is scored with.
 *
 * - `abWeights` (a weight per endpoint variant): the A/B split; off, the deployed weights.
 * - `challengerTraffic`: off, every user gets the champion whatever the weights say.
 * - `forceSegmentCtrFallback`: on, candidates are scored from the segment CTRs (else the global
 *   prior) without calling the endpoint, e.g. while the endpoint misbehaves.
 */
import type { z } from 'zod';
import {
  CHALLENGER_TRAFFIC_DEFINITION,
  abWeightsDefinition,
  abWeightsSchema,
  abWeightsValue,
  flagValues,
  servingVariants,
  toggle,
  type FlagSet,
} from '../../../../lambda/platform/feature-flags/flag-document';
import type { WeightedVariant } from '../../../../lambda/platform/realtime/variant';

/** The values' schema for an endpoint with these production variants. */
export function adClickFlagSchema(variantNames: readonly string[]) {
  return flagValues({
    abWeights: abWeightsSchema(variantNames),
    challengerTraffic: toggle(),
    forceSegmentCtrFallback: toggle(),
  });
}

export type AdClickFlagValues = z.output<ReturnType<typeof adClickFlagSchema>>;

/** The values that serve exactly the deployed configuration: the model on the deployed split. */
export function adClickDefaults(variants: readonly WeightedVariant[]): AdClickFlagValues {
  return {
    abWeights: abWeightsValue(variants),
    challengerTraffic: { enabled: true },
    forceSegmentCtrFallback: { enabled: false },
  };
}

/** The flag set the stack deploys for an endpoint with these variants. */
export function adClickFlags(
  variants: readonly WeightedVariant[],
): FlagSet<ReturnType<typeof adClickFlagSchema>> {
  const variantNames = variants.map((v) => v.name);
  return {
    schema: adClickFlagSchema(variantNames),
    definitions: {
      abWeights: abWeightsDefinition(variantNames),
      challengerTraffic: CHALLENGER_TRAFFIC_DEFINITION,
      forceSegmentCtrFallback: {
        name: 'Force segment-CTR fallback',
        description: 'On: candidates are scored from segment CTRs, the endpoint is not called',
      },
    },
    defaults: adClickDefaults(variants),
  };
}

/** What one request is scored with. */
export interface AdClickServing {
  readonly variants: readonly WeightedVariant[];
  readonly forceFallback: boolean;
}

export function adClickServing(
  values: AdClickFlagValues,
  deployed: readonly WeightedVariant[],
): AdClickServing {
  return {
    variants: servingVariants(deployed, values.abWeights, values.challengerTraffic),
    forceFallback: values.forceSegmentCtrFallback.enabled,
  };
}
