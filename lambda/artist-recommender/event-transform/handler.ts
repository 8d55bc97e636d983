/**
 * ETL item processor: one raw Firehose object per invocation (a Distributed Map item).
 *
 * Event: `{ bucket, key }` (the raw object; gzip JSON lines). `bucket` may be left out when
 * RAW_BUCKET is set, and `Key` (as the Map's S3 item reader names it) is accepted for `key`.
 * Result: `{ bucket, key, input, clean, duplicates, quarantined, loaded, recommendations, feedback,
 * loadedRecommendations, loadedServedItems, loadedFeedback, quarantineKey? }` where input = clean +
 * duplicates + quarantined and loaded <= clean (the rest were already loaded). A line is an
 * interaction (loaded into `events`), a `recommendation` (a served list: one `served_items` row per
 * item) or a `feedback` (into `feedback`); `recommendations` and `feedback` count the clean lines of
 * those kinds, the loaded* fields what was newly stored of them.
 * Bad lines go to `s3://QUARANTINE_BUCKET/QUARANTINE_PREFIX<key without raw/>.quarantine.jsonl.gz`
 * as `{ line, reason, field?, message, raw }` lines. Re-running an object is safe: the load skips
 * known keys (event_id; a served list's request id) and the quarantine object is overwritten.
 * Errors: a database that stays unreachable throws DatabaseUnavailableError; a corrupt gzip stream
 * throws and loads nothing (the transaction rolls back), so the Map's retry or failure budget decides.
 *
 * The distributed path (EVENT_STORE=lake) loads nothing here: the clean lines go to
 * `s3://LAKE_BUCKET/LAKE_STAGING_PREFIX <table>/day=<day>/<object>.json.gz` (`./stage.ts`), one object
 * per table, and the ETL's LoadLake step adds their new keys to the lake; `loaded*` then count
 * the staged lines. `day` is the ETL's day (the event's `day`, else the raw key's date).
 *
 * Environment: EVENT_STORE (`postgres`, the default, or `lake`), LAKE_BUCKET and
 * LAKE_STAGING_PREFIX (default `staging/`) for the lake, RAW_BUCKET (optional), QUARANTINE_BUCKET (default: the raw bucket), QUARANTINE_PREFIX
 * (default `quarantine/`), MAX_LINE_BYTES (65536), MAX_EVENT_AGE_DAYS (365),
 * MAX_FUTURE_SKEW_SECONDS (300), and the database settings of
 * `../../platform/shared-db/connection.ts`.
 * Metrics: EventsRead, EventsLoaded, EventsDuplicate, EventsQuarantined, ServedItemsLoaded,
 * FeedbackLoaded.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { ClientBase } from 'pg';
import type { z } from 'zod';
import { fields, lambdaEntry, powertools } from '../../platform/shared/lambda-entry';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
import {
  connectOptionsFromEnv,
  connectWithRetry,
  resolveClientConfig,
} from '../../platform/shared-db/connection';
import type { TransformCounts } from './classify';
import { stageEvents, stagingKey } from './stage';
import { transformObject, type LoadTarget } from './transform';

const tools = powertools();
const { logger, metrics, tracer } = tools;

/** Built once per container, on the first invocation that needs it. */
let s3: S3Client | undefined;
const defaultS3 = (): S3Client => (s3 ??= tracer.captureAWSv3Client(new S3Client(SDK_RETRY.standard)));

/**
 * The Distributed Map's item: `{ bucket, key }` from its item selector, or the item reader's own
 * `{ Key }` when the map passes the item as it is.
 */
export const TransformEvent = fields
  .object({
    bucket: fields.text().optional(),
    key: fields.text().optional(),
    Key: fields.text().optional(),
    day: fields.text().optional(),
  })
  .refine((event) => event.key !== undefined || event.Key !== undefined, {
    error: 'is missing',
    path: ['key'],
  });
export type TransformEvent = z.output<typeof TransformEvent>;

export interface TransformResult extends TransformCounts {
  bucket: string;
  key: string;
  quarantineKey?: string;
}

export function quarantineKeyFor(key: string, prefix: string): string {
  return `${prefix}${key.replace(/^raw\//, '')}.quarantine.jsonl.gz`;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

/** The ETL day of a raw object: the event's, else the date in a `raw/YYYY/MM/DD/...` key. */
export function dayOf(event: TransformEvent, key: string): string {
  const day = event.day ?? /^raw\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(key)?.slice(1).join('-');
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day))
    throw new Error(`no ETL day for ${key}: pass { day: 'YYYY-MM-DD' }`);
  return day;
}

export async function handleTransform(
  event: TransformEvent,
  env: NodeJS.ProcessEnv = process.env,
  s3: S3Client = defaultS3(),
  now: () => number = Date.now,
): Promise<TransformResult> {
  const bucket = event.bucket ?? env.RAW_BUCKET;
  const key = event.key ?? event.Key;
  if (!bucket || !key) throw new Error('the event must name the raw object: { bucket, key }');

  const store = env.EVENT_STORE ?? 'postgres';
  if (store !== 'postgres' && store !== 'lake')
    throw new Error(`EVENT_STORE must be postgres or lake, not ${store}`);
  const lakeBucket = env.LAKE_BUCKET;
  if (store === 'lake' && !lakeBucket) throw new Error('EVENT_STORE=lake needs LAKE_BUCKET');
  const day = store === 'lake' ? dayOf(event, key) : undefined;

  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  const client =
    store === 'postgres'
      ? await connectWithRetry(await resolveClientConfig(env), connectOptionsFromEnv(env))
      : undefined;
  const target: ClientBase | LoadTarget =
    client ??
    ((events, sourceKey) =>
      stageEvents(events, sourceKey, async (table, body) => {
        await s3.send(
          new PutObjectCommand({
            Bucket: lakeBucket,
            Key: stagingKey(env.LAKE_STAGING_PREFIX ?? 'staging/', day as string, table, key),
            Body: body,
            ContentType: 'application/gzip',
          }),
        );
      }));
  try {
    const { counts, quarantine } = await transformObject(
      object.Body as Readable,
      target,
      `s3://${bucket}/${key}`,
      {
        now: now(),
        maxLineBytes: positive(env, 'MAX_LINE_BYTES', 65_536),
        maxAgeMs: positive(env, 'MAX_EVENT_AGE_DAYS', 365) * 86_400_000,
        maxFutureSkewMs: positive(env, 'MAX_FUTURE_SKEW_SECONDS', 300) * 1000,
      },
    );
    const result: TransformResult = { bucket, key, ...counts };
    if (counts.quarantined > 0) {
      const quarantineKey = quarantineKeyFor(key, env.QUARANTINE_PREFIX ?? 'quarantine/');
      await s3.send(
        new PutObjectCommand({
          Bucket: env.QUARANTINE_BUCKET ?? bucket,
          Key: quarantineKey,
          Body: quarantine,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      );
      result.quarantineKey = quarantineKey;
    }
    metrics.addMetric('EventsRead', MetricUnit.Count, counts.input);
    metrics.addMetric('EventsLoaded', MetricUnit.Count, counts.loaded);
    metrics.addMetric('EventsDuplicate', MetricUnit.Count, counts.duplicates);
    metrics.addMetric('EventsQuarantined', MetricUnit.Count, counts.quarantined);
    metrics.addMetric('ServedItemsLoaded', MetricUnit.Count, counts.loadedServedItems);
    metrics.addMetric('FeedbackLoaded', MetricUnit.Count, counts.loadedFeedback);
    logger.info('transformed', { ...result });
    return result;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

export const handler = lambdaEntry(tools, TransformEvent, (event) => handleTransform(event));
