import { Cluster, type ClusterOptions } from 'iovalkey';

export interface CacheClientOptions {
  readonly host: string;
  readonly port: number;
  /** PEM CA bundle to trust; the default trusts the public CAs that sign ElastiCache certificates. */
  readonly ca?: string;
  /** Give up on a connection attempt after this long. */
  readonly connectTimeoutMs: number;
  /** Fail a command that has no answer after this long. */
  readonly commandTimeoutMs: number;
}

/**
 * A cluster-mode client over TLS, the only way ElastiCache Serverless speaks. Commands fail fast
 * instead of queueing while the cache is unreachable: the caller has a fallback, and a request that
 * waits for a dead cache only burns its latency budget.
 */
export function createCacheClient(options: CacheClientOptions): Cluster {
  const clusterOptions: ClusterOptions = {
    // ElastiCache hands out node addresses that must be reached by name for TLS to verify them.
    dnsLookup: (address, callback) => callback(null, address),
    enableOfflineQueue: false,
    lazyConnect: true,
    slotsRefreshTimeout: options.connectTimeoutMs,
    clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    redisOptions: {
      tls: options.ca ? { ca: options.ca } : {},
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
      maxRetriesPerRequest: 1,
    },
  };
  return new Cluster([{ host: options.host, port: options.port }], clusterOptions);
}
