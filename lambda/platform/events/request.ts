/**
 * The body of `POST /v1/events`: `{ "events": [ <event>, ... ] }` with 1..maxEvents events. The
 * function checks the body with this schema, and the API's request model is derived from it
 * (`toApiGatewaySchema`), so the gateway and the function agree on what a batch is.
 *
 * The events themselves are deliberately left unchecked here: each is validated by the function
 * against the design's contract and accepted or refused alone (`rejected[]` of a 202). A request
 * model that described them would make API Gateway refuse the whole batch for one bad event
 * ("When the validation fails, API Gateway immediately fails the request",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html),
 * and its draft-04 validator cannot express the contract's rules (opaque identifiers by Unicode
 * class, enumerations matched ignoring case, the timestamp window), so it would disagree with the
 * function in both directions.
 */
import { z } from 'zod';
import { MAX_EVENTS_PER_REQUEST } from './limits';

/**
 * The batch schema: `{ "<field>": [ ... ] }` with 1..maxEvents items. `field` is `events` for
 * `POST /v1/events`; another ingestion route names its batch after what it carries (`feedback`).
 */
export function eventBatchSchema(maxEvents: number, field = 'events') {
  return z.object(
    {
      [field]: z
        .array(z.unknown(), {
          error: (issue) =>
            issue.input === undefined ? `${field} is required` : `${field} must be an array`,
        })
        .min(1, { error: `${field} must not be empty` })
        .max(maxEvents, {
          error: (issue) =>
            `${field} holds ${(issue.input as unknown[]).length} items; the maximum per request is ${maxEvents}`,
        }),
    },
    { error: `the body must be a JSON object {"${field}": [...]}` },
  );
}

/** The batch at its largest, Firehose's PutRecordBatch limit: what the API's request model accepts. */
export const EventBatch = eventBatchSchema(MAX_EVENTS_PER_REQUEST);
