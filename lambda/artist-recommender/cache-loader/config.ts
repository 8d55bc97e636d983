import { REPLACED_VERSION_GRACE_SECONDS } from '../shared/cache-layout';
import { EnvReader } from '../../platform/shared/env-reader';
import type { LoadSettings } from './load';

export interface LoaderConfig {
  readonly cacheHost: string;
  readonly cachePort: number;
  readonly cacheConnectTimeoutMs: number;
  /**
   * Far above the serving function's: a pipelined batch of thousands of SETs is one command's wait,
   * and a loader that gives up on a slow batch only has to start over.
   */
  readonly cacheCommandTimeoutMs: number;
  readonly settings: LoadSettings;
}

/** Reads the loader's environment; every problem is reported at once, at cold start. */
export function readLoaderConfig(env: NodeJS.ProcessEnv): LoaderConfig {
  const read = new EnvReader(env);
  const config: LoaderConfig = {
    cacheHost: read.text('CACHE_HOST'),
    cachePort: read.number('CACHE_PORT', 1, 65535),
    cacheConnectTimeoutMs: read.number('CACHE_CONNECT_TIMEOUT_MS', 10, 60_000, 5000),
    cacheCommandTimeoutMs: read.number('CACHE_COMMAND_TIMEOUT_MS', 100, 120_000, 15_000),
    settings: {
      batchSize: read.number('LOAD_BATCH_SIZE', 1, 100_000, 1000),
      maxInFlight: read.number('LOAD_MAX_IN_FLIGHT', 1, 64, 4),
      maxBadLineFraction: read.number('LOAD_MAX_BAD_LINE_FRACTION', 0, 1, 0.001),
      maxReportedBadLines: read.number('LOAD_MAX_REPORTED_BAD_LINES', 0, 1000, 20),
      maxLineBytes: read.number('LOAD_MAX_LINE_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
      // The serving function's variable, range and default: both must drop the same items.
      scoreThreshold: read.number('SCORE_THRESHOLD', -1, 1, 0),
      graceSeconds: read.number(
        'REPLACED_VERSION_GRACE_SECONDS',
        1,
        7 * 86_400,
        REPLACED_VERSION_GRACE_SECONDS,
      ),
      loadingTtlSeconds: read.number('LOAD_LOADING_TTL_SECONDS', 3, 3600, 120),
    },
  };
  read.done('cache loader configuration');
  return config;
}
