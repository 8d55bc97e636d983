/**
 * Writes the user features of a snapshot into the SageMaker Feature Store (an ETL step after the
 * snapshot; runs outside the VPC, where the Feature Store runtime endpoint is).
 *
 * Event: `{ bucket, key }`: a features/user_features.jsonl object (gzip when the key ends in .gz),
 * one record of the feature contract per line (`UserFeatures`,
 * lib/designs/artist-recommender/contracts/features.ts; written by ../snapshot/export.ts).
 * Result: `{ records, failed, badLines, badLineSamples: [{ line, reason }] }`: records written,
 * valid records refused after retries, and lines that are not a valid record (counted with their
 * line numbers and never sent, never dropped silently).
 * Every line becomes one PutRecord of `[{ FeatureName, ValueAsString }]` for each of its fields,
 * numbers written as strings. The object is streamed line by line, never held whole.
 * Errors: when `failed > 0` after retries the invocation throws IngestFailedError (after trying every
 * line), so Step Functions retries or fails visibly; PutRecord is an upsert by record id and event
 * time, so a retry rewrites the same records.
 *
 * Environment: FEATURE_GROUP_NAME (required), INGEST_CONCURRENCY (default 16), INGEST_MAX_ATTEMPTS
 * (default 8: throttling, 5xx and dropped connections are retried with capped exponential backoff
 * and jitter), INGEST_MAX_LINE_BYTES (default 1 MiB), INGEST_MAX_BAD_LINE_SAMPLES (default 20).
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { EnvReader } from '../../platform/shared/env-reader';
import { openObject } from '../../platform/shared/s3-object';
import { splitLines } from '../event-transform/lines';
import { DEFAULT_INGEST_OPTIONS, ingestLines, type IngestOptions, type IngestResult } from './ingest';

export interface IngestEvent {
  bucket: string;
  key: string;
}

export type { IngestResult } from './ingest';

export interface IngestConfig {
  featureGroupName: string;
  maxLineBytes: number;
  options: IngestOptions;
}

export function readIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const read = new EnvReader(env);
  const config: IngestConfig = {
    featureGroupName: read.text('FEATURE_GROUP_NAME'),
    maxLineBytes: read.integer('INGEST_MAX_LINE_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
    options: {
      ...DEFAULT_INGEST_OPTIONS,
      concurrency: read.integer('INGEST_CONCURRENCY', 1, 256, DEFAULT_INGEST_OPTIONS.concurrency),
      maxAttempts: read.integer('INGEST_MAX_ATTEMPTS', 1, 20, DEFAULT_INGEST_OPTIONS.maxAttempts),
      maxSamples: read.integer('INGEST_MAX_BAD_LINE_SAMPLES', 0, 1000, DEFAULT_INGEST_OPTIONS.maxSamples),
    },
  };
  read.done('feature ingestion configuration');
  return config;
}

export function parseIngestEvent(event: unknown): IngestEvent {
  const fields = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  for (const name of ['bucket', 'key']) {
    if (typeof fields[name] !== 'string' || fields[name] === '')
      throw new Error(`the event must name the features object: { bucket, key } (${name} is missing)`);
  }
  return { bucket: fields.bucket as string, key: fields.key as string };
}

export async function handleIngest(
  event: unknown,
  config: IngestConfig,
  clients: { s3: S3Client; featureStore: SageMakerFeatureStoreRuntimeClient },
): Promise<IngestResult> {
  const { bucket, key } = parseIngestEvent(event);
  const { body } = await openObject(clients.s3, bucket, key);
  try {
    const result = await ingestLines(
      splitLines(body, config.maxLineBytes),
      (record) =>
        clients.featureStore.send(
          new PutRecordCommand({ FeatureGroupName: config.featureGroupName, Record: record }),
        ),
      config.options,
    );
    console.log(JSON.stringify({ message: 'features ingested', bucket, key, ...result }));
    return result;
  } finally {
    body.destroy();
  }
}

let clients: { s3: S3Client; featureStore: SageMakerFeatureStoreRuntimeClient } | undefined;
let config: IngestConfig | undefined;

export const handler = (event: IngestEvent): Promise<IngestResult> => {
  config ??= readIngestConfig(process.env);
  // The SDK's own retries are off: putWithRetry owns the policy, so attempts do not multiply.
  clients ??= {
    s3: new S3Client({}),
    featureStore: new SageMakerFeatureStoreRuntimeClient({ maxAttempts: 1 }),
  };
  return handleIngest(event, config, clients);
};
