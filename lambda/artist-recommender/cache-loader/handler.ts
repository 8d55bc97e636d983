import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { Cluster } from 'iovalkey';
import { KEY_PART_PATTERN } from '../shared/cache-layout';
import { connectCacheClient } from '../../platform/shared/cache-client';
import { readLoaderConfig, type LoaderConfig } from './config';
import { loadCache, type LoadRequest, type LoadSummary } from './load';

/**
 * What the Step Functions pipeline passes: the two files as objects, or as members of the training
 * job's `output.tar.gz` (`archiveKey`, `recommendationsMember`, `popularityMember`). The first
 * deploy's bootstrap load adds `onlyIfEmpty: true`.
 */
export type CacheLoaderEvent = LoadRequest;

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

export function parseEvent(event: unknown): LoadRequest {
  if (typeof event !== 'object' || event === null) throw new InvalidEventError('the event is not an object');
  const fields = event as Record<string, unknown>;
  const text = (name: string): string => {
    const value = fields[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new InvalidEventError(`${name} must be a non-empty string`);
    }
    return value;
  };
  const keyPart = (name: string): string => {
    const value = text(name);
    if (!KEY_PART_PATTERN.test(value)) throw new InvalidEventError(`${name} must match ${KEY_PART_PATTERN}`);
    return value;
  };
  const onlyIfEmpty = fields.onlyIfEmpty ?? undefined;
  if (onlyIfEmpty !== undefined && typeof onlyIfEmpty !== 'boolean') {
    throw new InvalidEventError('onlyIfEmpty must be a boolean');
  }
  const target = {
    variant: keyPart('variant'),
    version: fields.version === undefined || fields.version === null ? undefined : keyPart('version'),
    ...(onlyIfEmpty === undefined ? {} : { onlyIfEmpty }),
  };
  if (fields.archiveKey !== undefined) {
    return {
      bucket: text('bucket'),
      archiveKey: text('archiveKey'),
      recommendationsMember: text('recommendationsMember'),
      popularityMember: text('popularityMember'),
      ...target,
    };
  }
  return {
    bucket: text('bucket'),
    recommendationsKey: text('recommendationsKey'),
    popularityKey: text('popularityKey'),
    ...target,
  };
}

const logger = new Logger();

/**
 * One cache client per invocation: loads run minutes apart at most once per training run, and a
 * fresh connection cannot inherit a broken one from an earlier load.
 */
export function createHandler(
  config: LoaderConfig,
  options: { s3?: S3Client; cacheCa?: string } = {},
): (event: CacheLoaderEvent) => Promise<LoadSummary> {
  const s3 = options.s3 ?? new S3Client({});
  return async (event) => {
    const request = parseEvent(event);
    let client: Cluster | undefined;
    try {
      client = await connectCacheClient({
        host: config.cacheHost,
        port: config.cachePort,
        ca: options.cacheCa,
        connectTimeoutMs: config.cacheConnectTimeoutMs,
        commandTimeoutMs: config.cacheCommandTimeoutMs,
      });
      const summary = await loadCache(request, { client, s3, settings: config.settings, logger });
      logger.info('cache loaded', { ...summary });
      return summary;
    } catch (error) {
      logger.error('cache load failed', { request, error: error as Error });
      throw error;
    } finally {
      client?.disconnect();
    }
  };
}

let configured: ((event: CacheLoaderEvent) => Promise<LoadSummary>) | undefined;

export const handler = (event: CacheLoaderEvent): Promise<LoadSummary> => {
  configured ??= createHandler(readLoaderConfig(process.env));
  return configured(event);
};
