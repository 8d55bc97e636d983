/**
 * Loads a batch recommendation set into the cache under a new version and swaps the pointer (the
 * training pipeline's LoadCache state, and the first deploy's bootstrap load through
 * `platform/invoke-at-deploy`).
 *
 * Event (`CacheLoadEvent`): the two files as objects (`recommendationsKey`, `popularityKey`), or as
 * members of the training job's `output.tar.gz` (`archiveKey`, `recommendationsMember`,
 * `popularityMember`), with `bucket`, `variant`, and optionally `version` and `onlyIfEmpty`.
 * Result: the load's summary (`./load.ts`). Metrics: UsersLoaded, BadLines, LoadsFailed.
 * Environment: see `./config.ts`.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Cluster } from 'iovalkey';
import { z } from 'zod';
import { connectCacheClient } from '../../platform/shared/cache-client';
import { fields, lambdaEntry, parseEvent as parseWith, powertools } from '../../platform/shared/lambda-entry';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
import { KEY_PART_PATTERN } from '../shared/cache-layout';
import { readLoaderConfig, type LoaderConfig } from './config';
import { loadCache, type LoadRequest, type LoadSummary } from './load';

const tools = powertools();
const { logger, metrics, tracer } = tools;

/** A part of a cache key: the variant, a version. */
const keyPart = () => fields.text().regex(KEY_PART_PATTERN, { error: `must match ${KEY_PART_PATTERN}` });

/** What to load the set as; a null `version` or `onlyIfEmpty` counts as absent. */
const target = {
  variant: keyPart(),
  version: keyPart()
    .nullish()
    .transform((value) => value ?? undefined),
  onlyIfEmpty: fields
    .boolean()
    .nullish()
    .transform((value) => value ?? undefined),
};

const ObjectsRequest = fields.object({
  bucket: fields.text(),
  recommendationsKey: fields.text(),
  popularityKey: fields.text(),
  ...target,
});

const ArchiveRequest = fields.object({
  bucket: fields.text(),
  archiveKey: fields.text(),
  recommendationsMember: fields.text(),
  popularityMember: fields.text(),
  ...target,
});

/** The load request: two objects, or two members of an archive. */
export const CacheLoadEvent = z
  .union([ArchiveRequest, ObjectsRequest])
  .transform(({ onlyIfEmpty, ...request }): LoadRequest => ({
    ...request,
    ...(onlyIfEmpty === undefined ? {} : { onlyIfEmpty }),
  }));

/** The event as the entry parses it, for callers that hold one of unknown shape. */
export function parseEvent(event: unknown): LoadRequest {
  return parseWith(CacheLoadEvent, event);
}

/** Built once per container, on the first load. */
let s3: S3Client | undefined;
const defaultS3 = (): S3Client => (s3 ??= tracer.captureAWSv3Client(new S3Client(SDK_RETRY.standard)));

/**
 * The load of one request, without the Lambda entry's wrapping: what tests and local runs call.
 *
 * The cache connection is opened per load and closed after it, unlike the serving function's
 * shared one: loads come at most once per training run, hours apart, and a connection kept by a
 * frozen container that long would meet its first command broken. A fresh connection, bounded by
 * its connect timeout, cannot inherit that.
 */
export function createHandler(
  config: LoaderConfig,
  options: { s3?: S3Client; cacheCa?: string } = {},
): (request: LoadRequest) => Promise<LoadSummary> {
  const s3Client = options.s3 ?? defaultS3();
  return async (request) => {
    let client: Cluster | undefined;
    try {
      client = await connectCacheClient({
        host: config.cacheHost,
        port: config.cachePort,
        ca: options.cacheCa,
        connectTimeoutMs: config.cacheConnectTimeoutMs,
        commandTimeoutMs: config.cacheCommandTimeoutMs,
      });
      const summary = await loadCache(request, { client, s3: s3Client, settings: config.settings, logger });
      metrics.addMetric('UsersLoaded', MetricUnit.Count, summary.users);
      metrics.addMetric('BadLines', MetricUnit.Count, summary.badLines);
      logger.info('cache loaded', { ...summary });
      return summary;
    } catch (error) {
      metrics.addMetric('LoadsFailed', MetricUnit.Count, 1);
      logger.error('cache load failed', { request, error: error as Error });
      throw error;
    } finally {
      client?.disconnect();
    }
  };
}

let deployed: ((request: LoadRequest) => Promise<LoadSummary>) | undefined;

export const handler = lambdaEntry(tools, CacheLoadEvent, (request) => {
  deployed ??= createHandler(readLoaderConfig(process.env));
  return deployed(request);
});
