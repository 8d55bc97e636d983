/**
 * AppConfig's Lambda validator of the recommender's feature flags: refuses, naming each field, a
 * document the serving function would refuse (`lib/designs/artist-recommender/contracts/feature-flags.ts`).
 * Environment: FLAGS_VARIANT_NAMES, the endpoint's production variants.
 */
import { recommenderFlagSchema } from '../../../lib/designs/artist-recommender/contracts/feature-flags';
import { flagValidatorHandler } from '../../platform/feature-flags/validator';
import { powertools } from '../../platform/shared/lambda-entry';

/** The Lambda entry point. */
export const handler = flagValidatorHandler(powertools(), recommenderFlagSchema);
