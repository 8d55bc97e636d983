/**
 * The record of one served list: a `recommendation` line of the design's event contract
 * (`lib/designs/artist-recommender/contracts/events.ts`, `RecommendationEvent`), written to the
 * function's log and carried from there into the raw bucket by `ServedListRecording`
 * (`lib/platform/constructs/data/served-list-recording.ts`): a subscription filter on the log group
 * sends matching lines to Firehose, which extracts each message and writes it as one JSON line.
 *
 * The line goes straight to stdout, not through the Powertools logger: the logger drops lines
 * below its level and samples debug, and this line is data, not a diagnostic. Lambda does not wrap
 * a line that is already JSON ("Lambda doesn't double-encode any logs that are already JSON
 * encoded", https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html),
 * and a line without a `level` is taken as INFO
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html), which the
 * function's log-level setting keeps (a test of the stack pins that setting). Writing to stdout in
 * Lambda is a write to a pipe, synchronous in Node on Linux: no network call, nothing to await.
 */
import type { RecommendationEventInput } from '../../../lib/designs/artist-recommender/contracts/events';
import {
  SERVED_LIST_COUNT_FIELD,
  SERVED_LIST_EVENT_TYPE,
} from '../../../lib/platform/constructs/data/served-list-line';
import type { Recommendations } from './recommend';

/** What the function answered one request with. */
export interface ServedList {
  readonly requestId: string;
  readonly userId: string;
  readonly answer: Recommendations;
  /** When it was answered, epoch ms. */
  readonly servedAt: number;
}

/**
 * The line for a served list, or undefined when it held no item (nothing was shown). Beyond the
 * contract's fields it carries the item count, which the Impressions metric filter reads (a filter
 * cannot count an array); the contract ignores it, and the ETL does not store it.
 */
export function servedListLine(served: ServedList): string | undefined {
  const { answer } = served;
  if (answer.items.length === 0) return undefined;
  const event: RecommendationEventInput & { [SERVED_LIST_COUNT_FIELD]: number } = {
    event_type: SERVED_LIST_EVENT_TYPE,
    event_id: served.requestId,
    request_id: served.requestId,
    user_id: served.userId,
    variant: answer.variant,
    model_version: answer.modelVersion,
    source: answer.source,
    items: answer.items.map((item, i) => ({ artist_id: item.artistId, position: i + 1, score: item.score })),
    ts: new Date(served.servedAt).toISOString(),
    [SERVED_LIST_COUNT_FIELD]: answer.items.length,
  };
  return JSON.stringify(event);
}

/** Writes the line of a served list to stdout (see the module's comment); a list with no item writes none. */
export function recordServedList(served: ServedList): void {
  const line = servedListLine(served);
  if (line !== undefined) process.stdout.write(`${line}\n`);
}
