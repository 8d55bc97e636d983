import type { EnvReader } from '../shared/env-reader';

export interface WeightedVariant {
  readonly name: string;
  readonly weight: number;
}

/** Production variant names SageMaker takes as `TargetVariant` (the runtime API's model). */
export const VARIANT_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * Assigns a user to an A/B variant by a stable hash of the user id, so a user sees the same variant
 * on every request and every container, and the split follows the weights.
 */
export function assignVariant(userId: string, variants: readonly WeightedVariant[]): string {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const point = (fnv1a32(userId) / 0x1_0000_0000) * total;
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (point < cumulative) return variant.name;
  }
  return variants[variants.length - 1].name;
}

/** 32-bit FNV-1a over the UTF-16 code units: fast, dependency-free and well spread for short ids. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Reads `[{ name, weight }]` from a variable: names SageMaker accepts, weights >= 0, one positive. */
export function readVariants(read: EnvReader, env: NodeJS.ProcessEnv, name: string): WeightedVariant[] {
  const raw = env[name];
  if (!raw) {
    read.problem(`${name} is required`);
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    read.problem(`${name} must be JSON`);
    return [];
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every(
      (v) =>
        typeof v?.name === 'string' &&
        VARIANT_NAME_PATTERN.test(v.name) &&
        typeof v?.weight === 'number' &&
        Number.isFinite(v.weight) &&
        v.weight >= 0,
    ) &&
    new Set(parsed.map((v) => v.name)).size === parsed.length &&
    parsed.some((v) => v.weight > 0);
  if (!valid) {
    read.problem(`${name} must be a non-empty array of distinct {name, weight >= 0} with a positive weight`);
    return [];
  }
  return (parsed as WeightedVariant[]).map(({ name: variant, weight }) => ({ name: variant, weight }));
}
