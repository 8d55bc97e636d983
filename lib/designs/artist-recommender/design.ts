import type { Design } from '../../config/design';

/**
 * The artist recommender of the interview guide: recommend artists to users from the artists and
 * songs they liked; success is clicks on recommendations.
 */
export const artistRecommender: Design = {
  id: 'artist-recommender',
  summary: 'Artist recommender: collaborative filtering with user features, precomputed into a cache',
  requirements: {
    dailyActiveUsers: 5_000_000,
    // The home screen shelf loads a few times a day per active user.
    requestsPerUserPerDay: 4,
    // Evening peak at about 4x the daily average of 231 requests/s.
    peakRequestsPerSecond: 1_000,
    p99LatencyMs: 100,
    topK: 50,
    catalogueSize: 200_000,
    retrainEveryHours: 24,
    // Recommend only artists at least somewhat aligned with the user's taste.
    scoreThreshold: 0,
  },
  abVariants: [
    { name: 'champion', weight: 0.9 },
    { name: 'challenger', weight: 0.1 },
  ],
};
