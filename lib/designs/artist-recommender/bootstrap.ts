import type { ScoredItem } from '../../../lambda/artist-recommender/shared/cache-layout';

/**
 * What a fresh deployment serves before its first training run: a demo catalogue's popularity
 * ranking. The first training run on real data replaces it, and the loaded set with it.
 */
export const BOOTSTRAP_POPULARITY: readonly ScoredItem[] = Array.from({ length: 50 }, (_, i) => ({
  artistId: `artist-${String(i + 1).padStart(4, '0')}`,
  score: Number((1 / (1 + i * 0.1)).toFixed(4)),
}));
