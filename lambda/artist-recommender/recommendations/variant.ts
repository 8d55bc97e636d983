export interface WeightedVariant {
  readonly name: string;
  readonly weight: number;
}

/**
 * Assigns a user to an A/B variant by a stable hash of the user id, so a user sees the same variant
 * on every request and every container, and the split follows the configured weights.
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
