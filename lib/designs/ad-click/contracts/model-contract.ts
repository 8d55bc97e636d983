import { z } from 'zod';
import { MAX_CANDIDATES, type ScoreRequest } from './score-request';
import type { UserFeatures } from './online-features';

/**
 * The endpoint's request, as the inference handler reads it (`sagemaker/ad_click/inference.py`,
 * `parse_request` with the request groups of `features.py`): snake_case, every field present, an
 * empty string for a value that is not known. Strings only, so a value reads the same as the
 * training data's (hours there are "0".."23").
 */
const value = () => z.string().max(256);

export const ModelRequest = z.strictObject({
  user: z.strictObject({ user_id: value(), age_group: value(), country: value() }),
  context: z.strictObject({
    device: value(),
    placement: value(),
    hour_of_day: value(),
    day_of_week: value(),
  }),
  candidates: z
    .array(z.strictObject({ ad_id: value(), advertiser_id: value(), ad_category: value() }))
    .min(1)
    .max(MAX_CANDIDATES),
});

/** The endpoint's answer: calibrated probabilities in the candidates' order. Extra keys are ignored. */
export const ModelAnswer = z.object({
  probabilities: z.array(z.number().min(0).max(1)).max(MAX_CANDIDATES),
  model_version: z.string().min(1).max(256),
});

export type ModelRequest = z.infer<typeof ModelRequest>;
export type ModelAnswer = z.infer<typeof ModelAnswer>;

/** The user's features the model takes from the feature store. */
export type ModelUserFeatures = Pick<UserFeatures, 'age_group' | 'country'>;

/**
 * The one place the API's camelCase becomes the model's snake_case. A user the feature store does
 * not know (or could not be read) goes with empty features, which the model scores as unknown.
 */
export function toModelRequest(request: ScoreRequest, user: ModelUserFeatures | undefined): ModelRequest {
  const { context } = request;
  return {
    user: { user_id: request.userId, age_group: user?.age_group ?? '', country: user?.country ?? '' },
    context: {
      device: context.device,
      placement: context.placement,
      hour_of_day: context.hourOfDay === undefined ? '' : String(context.hourOfDay),
      day_of_week: context.dayOfWeek ?? '',
    },
    candidates: request.candidates.map((c) => ({
      ad_id: c.adId,
      advertiser_id: c.advertiserId,
      ad_category: c.adCategory,
    })),
  };
}
