/**
 * `POST /v1/events` of ad click prediction: the platform's ingestion handler
 * (`lambda/platform/events/handler.ts`, which documents the request, the answers and the
 * environment) with this design's event contract (`lib/designs/ad-click/contracts/events.ts`).
 * Answers name events by `eventId`.
 */
import {
  createEventsHandler,
  eventsHandler,
  readIngestConfig,
  type IngestConfig,
  type IngestDependencies,
} from '../../platform/events/handler';
import { AD_EVENT_CONTRACT } from '../../../lib/designs/ad-click/contracts/events';

export { readIngestConfig, type IngestConfig, type IngestDependencies };

/** The request handling without the Lambda entry's wrapping, for tests and local runs. */
export function createHandler(config: IngestConfig, deps: IngestDependencies) {
  return createEventsHandler(AD_EVENT_CONTRACT, config, deps);
}

export const handler = eventsHandler(AD_EVENT_CONTRACT);
