import { Cluster, type ClusterOptions } from 'iovalkey';

export interface CacheClientOptions {
  readonly host: string;
  readonly port: number;
  /** PEM CA bundle to trust; the default trusts the public CAs that sign ElastiCache certificates. */
  readonly ca?: string;
  /** Give up on a connection attempt (socket, TLS, slot map, ready check) after this long. */
  readonly connectTimeoutMs: number;
  /** Fail a command that has no answer after this long. */
  readonly commandTimeoutMs: number;
}

/** No connection to the cache within the deadline, or the attempt failed; the client was dropped. */
export class CacheConnectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheConnectError';
  }
}

/**
 * A cluster-mode client over TLS, the only way ElastiCache Serverless speaks, not yet connected:
 * most callers want `connectCacheClient` or `SharedCacheClient`, which bound the connection attempt.
 *
 * Every command has a deadline: the cluster client never queues (no offline queue, so a command is
 * sent to a node at once or fails), and the node connection arms `commandTimeout` when the command
 * is first sent; iovalkey arms it once, so redirections and retries stay inside it. Commands fail
 * fast instead of waiting for a dead cache: the caller has a fallback, and a request that waits
 * for a dead cache only burns its latency budget.
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
  const client = new Cluster([{ host: options.host, port: options.port }], clusterOptions);
  // A broken connection is reported by the failing command or connection attempt; without a
  // listener the emitter would throw the error instead.
  client.on('error', () => undefined);
  return client;
}

/**
 * Connects a new client, or throws `CacheConnectError` after `connectTimeoutMs`. The deadline is
 * needed on top of iovalkey's own timeouts: `Cluster.connect()` (iovalkey 0.4.0) never settles when
 * its ready check fails, which is what a node that is back but not yet serving its slots
 * (cluster_state:fail) answers; the client then retries on its own, forever. A client whose attempt
 * failed or ran out of time is disconnected, which stops those retries.
 */
export async function connectCacheClient(options: CacheClientOptions): Promise<Cluster> {
  const client = createCacheClient(options);
  await connectWithin(client, options);
  return client;
}

/**
 * The one client of a long-lived container (the serving function), shared by every invocation.
 * `get()` hands out the client while it is ready; otherwise it starts one fresh connection attempt,
 * which every caller arriving meanwhile shares, bounded by `connectTimeoutMs`. An attempt that fails
 * or runs out of time is dropped, so the next `get()` starts a new one instead of waiting on a stale
 * attempt: a container recovers as soon as the cache does.
 */
export class SharedCacheClient {
  private client?: Cluster;
  private attempt?: Promise<Cluster>;

  constructor(private readonly options: CacheClientOptions) {}

  get(): Promise<Cluster> {
    if (this.client?.status === 'ready') return Promise.resolve(this.client);
    this.attempt ??= this.reconnect().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  /** Disconnects the client, or the attempt in progress. */
  close(): void {
    this.client?.disconnect();
  }

  private async reconnect(): Promise<Cluster> {
    // A client that is no longer ready retries in the background on its own schedule; one fresh
    // attempt under our deadline replaces it.
    this.client?.disconnect();
    const client = createCacheClient(this.options);
    this.client = client;
    await connectWithin(client, this.options);
    return client;
  }
}

async function connectWithin(client: Cluster, options: CacheClientOptions): Promise<void> {
  const where = `${options.host}:${options.port}`;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CacheConnectError(
            `no connection to the cache at ${where} within ${options.connectTimeoutMs} ms`,
          ),
        ),
      options.connectTimeoutMs,
    );
  });
  try {
    await Promise.race([client.connect(), deadline]);
  } catch (error) {
    client.disconnect();
    if (error instanceof CacheConnectError) throw error;
    throw new CacheConnectError(`could not connect to the cache at ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
