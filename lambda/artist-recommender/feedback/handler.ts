/**
 * `POST /v1/feedback` of the artist recommender: the platform's ingestion handler
 * (`lambda/platform/events/handler.ts`, which documents the answers, the delivery and its
 * environment) with the feedback item contract (`lib/designs/artist-recommender/contracts/
 * feedback.ts`): body `{ "feedback": [ <item>, ... ] }`, each item validated alone, a missing `ts`
 * set to the time received, each accepted item sent to the events delivery stream as a `feedback`
 * line with its deterministic event_id.
 *
 * Metrics (EMF, dimension Variant, of delivered items): FeedbackItems (all) and Clicks (clicked).
 * An item is counted under the variant it echoes when that is one the service runs, else under the
 * user's own (`assignVariant`, as the recommendation function assigns it): a client cannot create
 * metrics by sending made-up variants. The echoed value is stored as sent either way.
 * Environment: the ingestion handler's, and AB_VARIANTS (`[{name, weight}]`, default champion only).
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import {
  createEventsHandler,
  eventsHandler,
  readIngestConfig,
  type IngestConfig,
  type IngestDependencies,
  type IngestOptions,
} from '../../platform/events/handler';
import { assignVariant, readVariants, type WeightedVariant } from '../../platform/realtime/variant';
import { EnvReader } from '../../platform/shared/env-reader';
import {
  CLICKS_METRIC,
  FEEDBACK_BATCH_FIELD,
  FEEDBACK_ITEMS_METRIC,
  FEEDBACK_ITEM_CONTRACT,
  toFeedbackEvent,
  withReceivedTime,
  type FeedbackItem,
} from '../../../lib/designs/artist-recommender/contracts/feedback';
import { VARIANT_DIMENSION } from '../../../lib/platform/constructs/data/served-list-line';

export { readIngestConfig, type IngestConfig, type IngestDependencies };

/** The variants the service runs, as the serving stack sets them for the recommendation function. */
export function readFeedbackVariants(env: NodeJS.ProcessEnv): WeightedVariant[] {
  if (!env.AB_VARIANTS) return [{ name: 'champion', weight: 1 }];
  const read = new EnvReader(env);
  const variants = readVariants(read, env, 'AB_VARIANTS');
  read.done('feedback configuration');
  return variants;
}

/** The variant an item is counted under (see the module's comment). */
export function countedVariant(item: FeedbackItem, variants: readonly WeightedVariant[]): string {
  const echoed = item.variant;
  if (echoed !== null && variants.some((v) => v.name === echoed)) return echoed;
  return assignVariant(item.userId, variants);
}

/** Adds FeedbackItems and Clicks per variant, one EMF line per variant. */
export function countFeedback(
  items: readonly FeedbackItem[],
  variants: readonly WeightedVariant[],
  metrics: Metrics,
): void {
  const counts = new Map<string, { items: number; clicks: number }>();
  for (const item of items) {
    const variant = countedVariant(item, variants);
    const count = counts.get(variant) ?? { items: 0, clicks: 0 };
    count.items++;
    if (item.clicked) count.clicks++;
    counts.set(variant, count);
  }
  for (const [variant, count] of counts) {
    // A single metric carries its own dimension and is written at once, apart from the
    // invocation's other metrics (which have no Variant).
    const single = metrics.singleMetric();
    single.addDimension(VARIANT_DIMENSION, variant);
    single.addMetric(FEEDBACK_ITEMS_METRIC, MetricUnit.Count, count.items);
    const clicks = metrics.singleMetric();
    clicks.addDimension(VARIANT_DIMENSION, variant);
    clicks.addMetric(CLICKS_METRIC, MetricUnit.Count, count.clicks);
  }
}

/** The feedback route's options over the platform's ingestion handling. */
export function feedbackOptions(
  variants: readonly WeightedVariant[],
): IngestOptions<typeof FEEDBACK_ITEM_CONTRACT.schema> {
  return {
    batchField: FEEDBACK_BATCH_FIELD,
    fill: withReceivedTime,
    toStored: toFeedbackEvent,
    onDelivered: (items, metrics) => countFeedback(items, variants, metrics),
  };
}

/** The request handling without the Lambda entry's wrapping, for tests and local runs. */
export function createHandler(
  config: IngestConfig,
  deps: IngestDependencies,
  variants: readonly WeightedVariant[] = [{ name: 'champion', weight: 1 }],
) {
  return createEventsHandler(FEEDBACK_ITEM_CONTRACT, config, deps, feedbackOptions(variants));
}

export const handler = eventsHandler(FEEDBACK_ITEM_CONTRACT, process.env, (env) =>
  feedbackOptions(readFeedbackVariants(env)),
);
