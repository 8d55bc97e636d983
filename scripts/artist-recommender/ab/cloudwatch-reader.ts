/**
 * Impressions and clicks per variant from CloudWatch: the sums of the metrics `Impressions` (the
 * metric filter on the served lists) and `Clicks` (the feedback function's), dimension `Variant`,
 * in the design's metrics namespace, over [from, to).
 *
 * GetMetricData (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html):
 * at most 500 queries and 100,800 data points a call, more pages through NextToken; data points of
 * 1 minute are kept 15 days, of 5 minutes 63 days, of 1 hour 455 days, and StartTime is rounded
 * down to the minute, 5 minutes or hour accordingly. So the period is the finest one kept for the
 * window's start, and the window is counted in whole periods.
 */
import {
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { withDeadline } from '../../../lambda/platform/shared/deadline';
import type { VariantCounts } from '../../ab/readout';

import { CLICKS_METRIC } from '../../../lib/designs/artist-recommender/contracts/feedback';
import {
  IMPRESSIONS_METRIC,
  VARIANT_DIMENSION,
} from '../../../lib/platform/constructs/data/served-list-line';

export { CLICKS_METRIC, IMPRESSIONS_METRIC, VARIANT_DIMENSION };
/** The dimension Powertools Metrics adds to every metric of a function. */
export const SERVICE_DIMENSION = 'service';
/** Deadline of one GetMetricData call, retries included. */
export const CALL_TIMEOUT_MS = 30_000;
/** Pages read at most: a window of a year in 1-hour points for a few variants is a handful. */
export const MAX_PAGES = 100;

const DAY_MS = 86_400_000;
/** How long CloudWatch keeps data points of each period, finest first. */
export const RETENTION = [
  { periodSeconds: 60, keptMs: 15 * DAY_MS },
  { periodSeconds: 300, keptMs: 63 * DAY_MS },
  { periodSeconds: 3600, keptMs: 455 * DAY_MS },
] as const;

/** The finest period CloudWatch still holds for a window starting at `from`; undefined past 455 days. */
export function periodFor(from: Date, now: Date): number | undefined {
  const age = now.getTime() - from.getTime();
  return RETENTION.find((r) => age <= r.keptMs)?.periodSeconds;
}

export interface CloudWatchWindow {
  readonly namespace: string;
  /**
   * The `service` dimension the Clicks metric carries besides `Variant`: Powertools Metrics adds
   * `service` (the function's POWERTOOLS_SERVICE_NAME) to every EMF metric, and CloudWatch matches a
   * metric by its whole set of dimensions.
   * @default - Clicks by `Variant` alone, as the feedback format states
   */
  readonly clicksService?: string;
  readonly variants: readonly string[];
  readonly from: Date;
  readonly to: Date;
  readonly now?: Date;
  readonly timeoutMs?: number;
}

export interface CloudWatchCounts {
  readonly variants: readonly VariantCounts[];
  readonly periodSeconds: number;
  readonly calls: number;
}

/** Query ids must start with a lower-case letter: `impressions_0`, `clicks_0` for the first variant. */
function queries(window: CloudWatchWindow, period: number): MetricDataQuery[] {
  return window.variants.flatMap((variant, i) =>
    [IMPRESSIONS_METRIC, CLICKS_METRIC].map((metric) => ({
      Id: `${metric.toLowerCase()}_${i}`,
      Label: `${variant} ${metric}`,
      MetricStat: {
        Metric: {
          Namespace: window.namespace,
          MetricName: metric,
          Dimensions: [
            ...(metric === CLICKS_METRIC && window.clicksService
              ? [{ Name: SERVICE_DIMENSION, Value: window.clicksService }]
              : []),
            { Name: VARIANT_DIMENSION, Value: variant },
          ],
        },
        Period: period,
        Stat: 'Sum',
      },
      ReturnData: true,
    })),
  );
}

export async function readCloudWatchCounts(
  client: CloudWatchClient,
  window: CloudWatchWindow,
): Promise<CloudWatchCounts> {
  const period = periodFor(window.from, window.now ?? new Date());
  if (period === undefined) {
    throw new Error(`${window.from.toISOString()} is more than 455 days ago: CloudWatch no longer holds it`);
  }
  const sums = new Map<string, number>();
  let nextToken: string | undefined;
  let calls = 0;
  do {
    if (calls === MAX_PAGES) throw new Error(`GetMetricData still had pages after ${MAX_PAGES} calls`);
    const page = await withDeadline('GetMetricData', window.timeoutMs ?? CALL_TIMEOUT_MS, (abortSignal) =>
      client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries(window, period),
          StartTime: window.from,
          EndTime: window.to,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
        { abortSignal },
      ),
    );
    calls++;
    for (const result of page.MetricDataResults ?? []) {
      failOnError(result);
      const id = result.Id ?? '';
      sums.set(id, (sums.get(id) ?? 0) + (result.Values ?? []).reduce((sum, value) => sum + value, 0));
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return {
    variants: window.variants.map((variant, i) => ({
      variant,
      impressions: Math.round(sums.get(`${IMPRESSIONS_METRIC.toLowerCase()}_${i}`) ?? 0),
      clicks: Math.round(sums.get(`${CLICKS_METRIC.toLowerCase()}_${i}`) ?? 0),
    })),
    periodSeconds: period,
    calls,
  };
}

/** `Complete` and `PartialData` (more in the next page) are data; `InternalError` and `Forbidden` are not. */
function failOnError(result: MetricDataResult): void {
  if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
    const messages = (result.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join('; ');
    throw new Error(
      `GetMetricData ${result.Label ?? result.Id}: ${result.StatusCode}${messages ? ` (${messages})` : ''}`,
    );
  }
}
