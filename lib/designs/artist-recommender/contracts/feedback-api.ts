import { eventBatchSchema } from '../../../../lambda/platform/events/request';
import { toApiGatewaySchema } from '../../../platform/constructs/serving/request-model';
import { FEEDBACK_BATCH_FIELD, MAX_FEEDBACK_ITEMS } from './feedback';

/**
 * The API Gateway request model of `POST /v1/feedback`, derived from the batch schema the function
 * checks the body with. Items are validated one by one by the function against `FeedbackItem`, so a
 * bad item is refused alone (see lambda/platform/events/request.ts).
 */
export const FEEDBACK_REQUEST_MODEL = toApiGatewaySchema(
  eventBatchSchema(MAX_FEEDBACK_ITEMS, FEEDBACK_BATCH_FIELD),
);
