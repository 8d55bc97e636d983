/**
 * How many impressions a design's A/B variants collect per day, from the design's stated load
 * (`requirements`), the length of the lists it serves and its A/B weights (`abVariants`). An
 * impression is one served item: the unit the CTR test counts trials in.
 */
import type { Design } from '../../lib/platform/config/design';

/**
 * Items in a list served without `limit`: the ranking function's DEFAULT_LIMIT, min(10, topK)
 * (lib/platform/constructs/serving/cached-ranking/ranking-function.ts).
 */
export const DEFAULT_SERVED_LIST_LENGTH = 10;

export interface ItemsPerRequest {
  readonly items: number;
  /** Where the number comes from, for the printed assumptions. */
  readonly source: string;
}

/**
 * Items one request serves: a design that ranks a cached list (`ranking.topK`) serves its default
 * list length; any other design answers one item per request (one slot, one score).
 */
export function servedItemsPerRequest(design: Design): ItemsPerRequest {
  const topK = (design as Design & { ranking?: { topK?: unknown } }).ranking?.topK;
  if (typeof topK === 'number' && topK > 0) {
    const items = Math.min(DEFAULT_SERVED_LIST_LENGTH, topK);
    return {
      items,
      source: `the default list length served, min(${DEFAULT_SERVED_LIST_LENGTH}, ranking.topK = ${topK})`,
    };
  }
  return { items: 1, source: 'one item per request (the design serves no ranked list)' };
}

export interface VariantTraffic {
  readonly name: string;
  /** Share of users, from the variant weights. */
  readonly share: number;
  readonly impressionsPerDay: number;
}

/**
 * Daily impressions per variant: dailyActiveUsers x requestsPerUserPerDay x items per request x the
 * variant's share. Users are split by a stable hash, so a variant's share of users is its share of
 * requests on average.
 */
export function variantTraffic(design: Design, itemsPerRequest: number): VariantTraffic[] {
  const { dailyActiveUsers, requestsPerUserPerDay } = design.requirements;
  const total = design.abVariants.reduce((sum, v) => sum + v.weight, 0);
  return design.abVariants.map((variant) => {
    const share = total > 0 ? variant.weight / total : 0;
    return {
      name: variant.name,
      share,
      impressionsPerDay: dailyActiveUsers * requestsPerUserPerDay * itemsPerRequest * share,
    };
  });
}
