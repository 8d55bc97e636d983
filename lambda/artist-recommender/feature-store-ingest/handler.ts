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
 * Metrics: RecordsWritten, RecordsFailed, BadLines.
 *
 * Environment: FEATURE_GROUP_NAME (required), INGEST_CONCURRENCY (default 16), INGEST_MAX_ATTEMPTS
 * (default 8: the Feature Store client's attempts per record, in the SDK's adaptive retry mode),
 * INGEST_MAX_LINE_BYTES (default 1 MiB), INGEST_MAX_BAD_LINE_SAMPLES (default 20).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import {
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
  type SageMakerFeatureStoreRuntimeClientConfig,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import type { z } from 'zod';
import { EnvReader } from '../../platform/shared/env-reader';
import { fields, lambdaEntry, parseEvent, powertools } from '../../platform/shared/lambda-entry';
import { openObject } from '../../platform/shared/s3-object';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
import { splitLines } from '../event-transform/lines';
import {
  DEFAULT_INGEST_OPTIONS,
  IngestFailedError,
  ingestLines,
  type IngestOptions,
  type IngestResult,
} from './ingest';

const tools = powertools();
const { logger, metrics, tracer } = tools;

export const IngestEvent = fields.object({ bucket: fields.text(), key: fields.text() });
export type IngestEvent = z.output<typeof IngestEvent>;

export type { IngestResult } from './ingest';

export interface IngestConfig {
  featureGroupName: string;
  maxLineBytes: number;
  /** The Feature Store client's attempts per record, the first included. */
  maxAttempts: number;
  options: IngestOptions;
}

export function readIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const read = new EnvReader(env);
  const config: IngestConfig = {
    featureGroupName: read.text('FEATURE_GROUP_NAME'),
    maxLineBytes: read.integer('INGEST_MAX_LINE_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
    maxAttempts: read.integer('INGEST_MAX_ATTEMPTS', 1, 20, 8),
    options: {
      concurrency: read.integer('INGEST_CONCURRENCY', 1, 256, DEFAULT_INGEST_OPTIONS.concurrency),
      maxSamples: read.integer('INGEST_MAX_BAD_LINE_SAMPLES', 0, 1000, DEFAULT_INGEST_OPTIONS.maxSamples),
    },
  };
  read.done('feature ingestion configuration');
  return config;
}

/** The event as the entry parses it, for callers that hold one of unknown shape. */
export function parseIngestEvent(event: unknown): IngestEvent {
  return parseEvent(IngestEvent, event);
}

/**
 * The Feature Store client: thousands of PutRecord calls to one feature group, INGEST_CONCURRENCY
 * at a time, so the SDK's adaptive mode retries throttling and 5xx and slows the client down;
 * `overrides` (an endpoint, credentials) are for tests and local runs.
 */
export function featureStoreClient(
  maxAttempts: number,
  overrides: SageMakerFeatureStoreRuntimeClientConfig = {},
): SageMakerFeatureStoreRuntimeClient {
  return tracer.captureAWSv3Client(
    new SageMakerFeatureStoreRuntimeClient({ ...overrides, ...SDK_RETRY.adaptive(maxAttempts) }),
  );
}

export interface IngestClients {
  s3: S3Client;
  featureStore: SageMakerFeatureStoreRuntimeClient;
}

export async function handleIngest(
  event: IngestEvent,
  config: IngestConfig,
  clients: IngestClients,
): Promise<IngestResult> {
  const { bucket, key } = event;
  const { body } = await openObject(clients.s3, bucket, key);
  let result: IngestResult;
  try {
    result = await ingestLines(
      splitLines(body, config.maxLineBytes),
      (record) =>
        clients.featureStore.send(
          new PutRecordCommand({ FeatureGroupName: config.featureGroupName, Record: record }),
        ),
      config.options,
    );
  } catch (error) {
    if (error instanceof IngestFailedError) count(error.result);
    throw error;
  } finally {
    body.destroy();
  }
  count(result);
  logger.info('features ingested', { bucket, key, ...result });
  return result;
}

function count(result: IngestResult): void {
  metrics.addMetric('RecordsWritten', MetricUnit.Count, result.records);
  metrics.addMetric('RecordsFailed', MetricUnit.Count, result.failed);
  metrics.addMetric('BadLines', MetricUnit.Count, result.badLines);
}

/** The configuration and the clients, built on the first invocation and kept by the container. */
let deployed: { config: IngestConfig; clients: IngestClients } | undefined;

function deployment(): { config: IngestConfig; clients: IngestClients } {
  if (!deployed) {
    const config = readIngestConfig(process.env);
    deployed = {
      config,
      clients: {
        s3: tracer.captureAWSv3Client(new S3Client(SDK_RETRY.standard)),
        featureStore: featureStoreClient(config.maxAttempts),
      },
    };
  }
  return deployed;
}

export const handler = lambdaEntry(tools, IngestEvent, (event) => {
  const { config, clients } = deployment();
  return handleIngest(event, config, clients);
});
