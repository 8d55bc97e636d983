import { REPLACED_VERSION_GRACE_SECONDS } from '../shared/cache-layout';
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
  const problems: string[] = [];
  const number = (name: string, min: number, max: number, fallback?: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (fallback === undefined) problems.push(`${name} is required`);
      return fallback ?? 0;
    }
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      problems.push(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const cacheHost = env.CACHE_HOST ?? '';
  if (!cacheHost) problems.push('CACHE_HOST is required');

  const config: LoaderConfig = {
    cacheHost,
    cachePort: number('CACHE_PORT', 1, 65535),
    cacheConnectTimeoutMs: number('CACHE_CONNECT_TIMEOUT_MS', 10, 60_000, 5000),
    cacheCommandTimeoutMs: number('CACHE_COMMAND_TIMEOUT_MS', 100, 120_000, 15_000),
    settings: {
      batchSize: number('LOAD_BATCH_SIZE', 1, 100_000, 1000),
      maxInFlight: number('LOAD_MAX_IN_FLIGHT', 1, 64, 4),
      maxBadLineFraction: number('LOAD_MAX_BAD_LINE_FRACTION', 0, 1, 0.001),
      maxReportedBadLines: number('LOAD_MAX_REPORTED_BAD_LINES', 0, 1000, 20),
      maxLineBytes: number('LOAD_MAX_LINE_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
      graceSeconds: number('REPLACED_VERSION_GRACE_SECONDS', 1, 7 * 86_400, REPLACED_VERSION_GRACE_SECONDS),
      loadingTtlSeconds: number('LOAD_LOADING_TTL_SECONDS', 3, 3600, 120),
    },
  };
  if (problems.length > 0) throw new Error(`invalid cache loader configuration: ${problems.join('; ')}`);
  return config;
}
