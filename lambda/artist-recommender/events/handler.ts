/**
 * `POST /v1/events` of the artist recommender: the platform's ingestion handler
 * (`lambda/platform/events/handler.ts`, which documents the request, the answers and the
 * environment) with this design's event contract (`lib/designs/artist-recommender/contracts/events.ts`).
 */
import {
  createEventsHandler,
  eventsHandler,
  readIngestConfig,
  type IngestConfig,
  type IngestDependencies,
} from '../../platform/events/handler';
import {
  EVENT_CONTRACT,
  systemEventRejection,
} from '../../../lib/designs/artist-recommender/contracts/events';

export { readIngestConfig, type IngestConfig, type IngestDependencies };

/** The request handling without the Lambda entry's wrapping, for tests and local runs. */
/** Events of the kinds only the service writes (served lists, feedback) are refused for their kind. */
const CLIENT_EVENTS = { screen: systemEventRejection };

export function createHandler(config: IngestConfig, deps: IngestDependencies) {
  return createEventsHandler(EVENT_CONTRACT, config, deps, CLIENT_EVENTS);
}

export const handler = eventsHandler(EVENT_CONTRACT, process.env, () => CLIENT_EVENTS);
