import { readVariants, type WeightedVariant } from '../../platform/realtime/variant';
import { EnvReader } from '../../platform/shared/env-reader';
import { readFlagSettings, type FlagSettings } from '../../platform/feature-flags/function-contract';

/** Everything the function needs, read once from its environment at cold start. */
export interface ServingConfig {
  readonly cacheHost: string;
  readonly cachePort: number;
  readonly cacheConnectTimeoutMs: number;
  readonly cacheCommandTimeoutMs: number;
  /** How long a container trusts the version pointer it read. */
  readonly pointerTtlMs: number;
  /** Absent until a model endpoint exists: misses then go straight to the fallback. */
  readonly modelEndpointName?: string;
  readonly modelTimeoutMs: number;
  readonly modelAnswerTtlSeconds: number;
  readonly variants: readonly WeightedVariant[];
  /** Items scoring below this cosine similarity are never recommended. */
  readonly scoreThreshold: number;
  readonly defaultLimit: number;
  /** How many items to ask the model for, so one cached answer serves every `limit`. */
  readonly modelTopK: number;
  readonly retryAfterSeconds: number;
  /** Where the feature flags are read; absent, every request uses the values above. */
  readonly flags?: FlagSettings;
}

/**
 * Reads the configuration the serving stack writes. A missing or malformed variable is a deployment
 * bug, so it fails the cold start with every problem named, instead of degrading silently.
 */
export function readServingConfig(env: NodeJS.ProcessEnv): ServingConfig {
  const read = new EnvReader(env);
  const config: ServingConfig = {
    cacheHost: read.text('CACHE_HOST'),
    cachePort: read.number('CACHE_PORT', 1, 65535),
    cacheConnectTimeoutMs: read.number('CACHE_CONNECT_TIMEOUT_MS', 10, 30_000, 1000),
    cacheCommandTimeoutMs: read.number('CACHE_COMMAND_TIMEOUT_MS', 5, 10_000, 100),
    pointerTtlMs: read.number('POINTER_TTL_MS', 0, 60_000, 1000),
    modelEndpointName: env.MODEL_ENDPOINT_NAME || undefined,
    modelTimeoutMs: read.number('MODEL_TIMEOUT_MS', 10, 60_000, 1000),
    modelAnswerTtlSeconds: read.number('MODEL_ANSWER_TTL_SECONDS', 1, 7 * 86_400, 3600),
    // SageMaker's variant names are valid cache key parts too (cache-layout's KEY_PART_PATTERN).
    variants: env.AB_VARIANTS ? readVariants(read, env, 'AB_VARIANTS') : [{ name: 'champion', weight: 1 }],
    scoreThreshold: read.number('SCORE_THRESHOLD', -1, 1, 0),
    defaultLimit: read.number('DEFAULT_LIMIT', 1, 100, 10),
    modelTopK: read.number('MODEL_TOP_K', 1, 100, 100),
    retryAfterSeconds: read.number('RETRY_AFTER_SECONDS', 1, 3600, 5),
    flags: readFlagSettings(read, env),
  };
  read.done('serving configuration');
  return config;
}
