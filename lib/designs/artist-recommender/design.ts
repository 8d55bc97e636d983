import * as path from 'node:path';
import type { Design } from '../../platform/config/design';
import { BOOTSTRAP_POPULARITY } from './bootstrap';

const SAGEMAKER_DIR = path.join(__dirname, '..', '..', '..', 'sagemaker');

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
    // New users and users active since the last batch run.
    cacheMissRate: 0.05,
    // Recommend only artists at least somewhat aligned with the user's taste.
    scoreThreshold: 0,
  },
  abVariants: [
    { name: 'champion', weight: 0.9 },
    { name: 'challenger', weight: 0.1 },
  ],
  model: {
    sourceDirectory: SAGEMAKER_DIR,
    packages: ['common', 'artist_recommender'],
    entryPoint: 'artist_recommender/train.py',
    inferenceCode: path.join(SAGEMAKER_DIR, 'artist_recommender', 'inference.py'),
    // The script's defaults are the values tuned offline; the list length comes from topK.
    hyperparameters: {},
    metricNames: [
      'ndcg_at_10',
      'recall_at_10',
      'hit_rate_at_10',
      'coverage_at_10',
      'popularity_ndcg_at_10',
      'threshold',
      'fit_seconds',
    ],
    gate: {
      metric: 'ndcg_at_10',
      baselineMetric: 'popularity_ndcg_at_10',
      minImprovementOverChampion: 0.002,
      minImprovementOverBaseline: 0.02,
    },
    bootstrapPopularity: BOOTSTRAP_POPULARITY,
  },
  data: {
    kAnonymity: 10,
    favouritesHalfLifeDays: 30,
    validationDays: 7,
  },
};
