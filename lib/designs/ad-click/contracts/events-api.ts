import { EventBatch } from '../../../../lambda/platform/events/request';
import { toApiGatewaySchema } from '../../../platform/constructs/serving/request-model';

/**
 * The API Gateway request model of `POST /v1/events`, derived from the batch schema the function
 * checks the body with. Events are validated one by one by the function against `AdEvent`, so a
 * bad event is refused alone (see lambda/platform/events/request.ts).
 */
export const EVENTS_REQUEST_MODEL = toApiGatewaySchema(EventBatch);
