import { KEY_PART_PATTERN } from '../shared/cache-layout';
import type { WeightedVariant } from './variant';

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
}

/**
 * Reads the configuration the serving stack writes. A missing or malformed variable is a deployment
 * bug, so it fails the cold start with every problem named, instead of degrading silently.
 */
export function readServingConfig(env: NodeJS.ProcessEnv): ServingConfig {
  const problems: string[] = [];
  const text = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is required`);
    return value ?? '';
  };
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

  const config: ServingConfig = {
    cacheHost: text('CACHE_HOST'),
    cachePort: number('CACHE_PORT', 1, 65535),
    cacheConnectTimeoutMs: number('CACHE_CONNECT_TIMEOUT_MS', 10, 30_000, 1000),
    cacheCommandTimeoutMs: number('CACHE_COMMAND_TIMEOUT_MS', 5, 10_000, 100),
    pointerTtlMs: number('POINTER_TTL_MS', 0, 60_000, 1000),
    modelEndpointName: env.MODEL_ENDPOINT_NAME || undefined,
    modelTimeoutMs: number('MODEL_TIMEOUT_MS', 10, 60_000, 1000),
    modelAnswerTtlSeconds: number('MODEL_ANSWER_TTL_SECONDS', 1, 7 * 86_400, 3600),
    variants: readVariants(env.AB_VARIANTS, problems),
    scoreThreshold: number('SCORE_THRESHOLD', -1, 1, 0),
    defaultLimit: number('DEFAULT_LIMIT', 1, 100, 10),
    modelTopK: number('MODEL_TOP_K', 1, 100, 100),
    retryAfterSeconds: number('RETRY_AFTER_SECONDS', 1, 3600, 5),
  };
  if (problems.length > 0) {
    throw new Error(`Invalid serving configuration: ${problems.join('; ')}`);
  }
  return config;
}

function readVariants(raw: string | undefined, problems: string[]): WeightedVariant[] {
  if (!raw) return [{ name: 'champion', weight: 1 }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push('AB_VARIANTS must be JSON');
    return [];
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every(
      (v) =>
        typeof v?.name === 'string' &&
        KEY_PART_PATTERN.test(v.name) &&
        typeof v?.weight === 'number' &&
        Number.isFinite(v.weight) &&
        v.weight >= 0,
    ) &&
    parsed.some((v) => v.weight > 0);
  if (!valid) {
    problems.push('AB_VARIANTS must be a non-empty array of {name, weight >= 0} with a positive weight');
    return [];
  }
  return parsed as WeightedVariant[];
}
