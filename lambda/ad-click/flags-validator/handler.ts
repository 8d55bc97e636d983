/**
 * AppConfig's Lambda validator of the ad click feature flags: refuses, naming each field, a
 * document the scoring function would refuse (`lib/designs/ad-click/contracts/feature-flags.ts`).
 * Environment: FLAGS_VARIANT_NAMES, the endpoint's production variants.
 */
import { adClickFlagSchema } from '../../../lib/designs/ad-click/contracts/feature-flags';
import { flagValidatorHandler } from '../../platform/feature-flags/validator';
import { powertools } from '../../platform/shared/lambda-entry';

/** The Lambda entry point. */
export const handler = flagValidatorHandler(powertools(), adClickFlagSchema);
