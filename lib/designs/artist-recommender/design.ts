import * as path from 'node:path';
import type { Design } from '../../platform/config/design';
import { bootstrapModelFiles } from './bootstrap';
import { MAX_TOP_K } from '../../platform/constructs/serving/cached-ranking/cached-ranking';
import { addArtistRecommenderStacks } from './stacks';

const SAGEMAKER_DIR = path.join(__dirname, '..', '..', '..', 'sagemaker');

/**
 * The artist recommender of the interview guide: recommend artists to users from the artists and
 * songs they liked; success is clicks on recommendations.
 */
/** How the ETL turns events into features and training snapshots. */
export interface DataPolicy {
  /** Every exported (age group, location) group holds at least this many users. */
  readonly kAnonymity: number;
  /** Half-life of the recency weighting of favourite artists and songs. */
  readonly favouritesHalfLifeDays: number;
  /** The snapshot validates on the last days before the ETL's day; it trains on everything before. */
  readonly validationDays: number;
  /** Events (impressions, clicks, plays, likes) a daily active user sends per day. */
  readonly eventsPerUserPerDay: number;
  /** Days of events the feature build reads: the favourites' window. */
  readonly historyDays: number;
}

/** The recommender's settings beyond the platform's. */
export interface ArtistRecommenderDesign extends Design {
  readonly ranking: {
    /** Artists precomputed and cached per user; a request's `limit` never exceeds it usefully. */
    readonly topK: number;
    /** Distinct artists that can be recommended. */
    readonly catalogueSize: number;
    /** Artists whose cosine similarity with the user falls below this are never recommended, in [-1, 1]. */
    readonly scoreThreshold: number;
  };
  readonly data: DataPolicy;
}

export const TOP_K = 50;

export const artistRecommender: ArtistRecommenderDesign = {
  id: 'artist-recommender',
  summary: 'Artist recommender: collaborative filtering with user features, precomputed into a cache',
  pattern: 'cached-ranking',
  requirements: {
    dailyActiveUsers: 5_000_000,
    // The home screen shelf loads a few times a day per active user.
    requestsPerUserPerDay: 4,
    // Evening peak at about 4x the daily average of 231 requests/s.
    peakRequestsPerSecond: 1_000,
    p99LatencyMs: 100,
    retrainEveryHours: 24,
    // Cache misses: new users and users active since the last batch run.
    modelRequestShare: 0.05,
    // A shelf that fails to load shows the popularity list; three nines of answered requests.
    availabilityTarget: 0.999,
  },
  ranking: {
    topK: TOP_K,
    catalogueSize: 200_000,
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
    // The script's defaults are the values tuned offline; the list length is the cached list's.
    hyperparameters: { k: String(TOP_K) },
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
      direction: 'higher-is-better',
      range: [0, 1],
      baselineMetric: 'popularity_ndcg_at_10',
      minImprovementOverChampion: 0.002,
      minImprovementOverBaseline: 0.02,
    },
    // A scheduled retrain starts from the champion's factors: fewer sweeps for the same quality.
    warmStart: true,
    // The entry point searches within its job's time budget, from the champion's factors; a
    // SageMaker tuning job (`mode: 'sagemaker'`, reading search_space.json) would start every
    // trial from scratch and bill one GPU job per trial per day.
    tuning: { mode: 'in-job' },
    bootstrapModel: () => bootstrapModelFiles(artistRecommender.model.inferenceCode),
    // As first deployed: CloudFormation would replace the named group on any change.
    registryDescription: 'Recommendation models that passed the evaluation gate',
    // `npm run recommender:serving-cost -- --requests 15 --warmup 2`, 2026-12-03, on the 2-vCPU build
    // machine (torch 1.13, jemalloc): 200,000 artists, 128 factors, 1M users with 29.7M
    // interactions; two known users for each new one, as the serving function asks. A known user
    // costs 133 ms (p99 179), 28x the plain cosine top-K's 4.8 ms; a new user 0.8 ms. Most of it is
    // the co-occurrence block, which reads the interactions of the co-listeners of the user's
    // artists: for popular artists about half of all of them, so it grows with the users: 12 ms at
    // 20k users, 30 ms at 200k, so roughly 0.65 s at the design's 5M. Over the 75 ms budget: see
    // `chooseEndpointHardware`'s flag, and README ("Configuration: requirements and profiles").
    // memoryMb is the tool's peak RSS, which carries the model writer's peak into the measuring
    // process (ru_maxrss outlives the spawn); a worker's own peak is about 2,000 MB.
    serving: {
      cpuMsPerRequest: 88.83,
      p99CpuMsPerRequest: 178.74,
      memoryMb: 4988,
      measuredWith: 'npm run recommender:serving-cost -- --requests 15 --warmup 2',
    },
  },
  data: {
    kAnonymity: 10,
    favouritesHalfLifeDays: 30,
    validationDays: 7,
    // A session shows a shelf of impressions and draws a few clicks and plays.
    eventsPerUserPerDay: 20,
    historyDays: 30,
  },
  // The feature build reads the favourites' window of every user's events.
  get featureBuild() {
    return this.data;
  },
  collectProblems(problems) {
    const { topK, catalogueSize, scoreThreshold } = this.ranking;
    problems.checkNumber('ranking.topK', topK, 1, MAX_TOP_K, true);
    problems.checkNumber('ranking.catalogueSize', catalogueSize, 1, 1e9, true);
    problems.checkNumber('ranking.scoreThreshold', scoreThreshold, -1, 1);
    if (topK > catalogueSize) {
      problems.add('ranking.topK', `cannot exceed catalogueSize (${topK} > ${catalogueSize})`);
    }
    problems.checkNumber('data.kAnonymity', this.data.kAnonymity, 2, 1e6, true);
    problems.checkNumber('data.validationDays', this.data.validationDays, 1, 90, true);
    problems.checkNumber('data.eventsPerUserPerDay', this.data.eventsPerUserPerDay, 0, 1e6);
    problems.checkNumber('data.historyDays', this.data.historyDays, 1, 3660, true);
  },
  addStacks: (app, config) => addArtistRecommenderStacks(app, config, artistRecommender),
};
