import type { Design } from '../../lib/platform/config/design';
import type { Requirements } from '../../lib/platform/config/requirements';

/**
 * A small design for the platform's own tests, named after no registered design: a feed ranker with
 * round numbers. It builds no stacks; what it exercises is the configuration the platform derives
 * from a design.
 */
export const FIXTURE_REQUIREMENTS: Requirements = {
  dailyActiveUsers: 1_000_000,
  requestsPerUserPerDay: 8.64,
  // Four times the daily average of 100 requests/s.
  peakRequestsPerSecond: 400,
  p99LatencyMs: 100,
  retrainEveryHours: 24,
  modelRequestShare: 0.1,
};

export const feedRanking: Design = {
  id: 'feed-ranking',
  summary: 'Feed ranking: a fixture design for platform tests',
  pattern: 'cached-ranking',
  requirements: FIXTURE_REQUIREMENTS,
  abVariants: [
    { name: 'champion', weight: 0.8 },
    { name: 'challenger', weight: 0.2 },
  ],
  model: {
    sourceDirectory: '/nonexistent/feed-ranking',
    packages: ['common', 'feed_ranking'],
    entryPoint: 'feed_ranking/train.py',
    inferenceCode: '/nonexistent/feed-ranking/inference.py',
    hyperparameters: {},
    metricNames: ['auc'],
    gate: {
      metric: 'auc',
      direction: 'higher-is-better',
      range: [0, 1],
      baselineMetric: 'baseline_auc',
      minImprovementOverChampion: 0.001,
      minImprovementOverBaseline: 0.01,
    },
    bootstrapModel: () => ({}),
    // 10 ms a request on one vCPU: a 2-vCPU instance serves 200 requests/s.
    serving: {
      cpuMsPerRequest: 10,
      p99CpuMsPerRequest: 25,
      memoryMb: 800,
      measuredWith: 'npm run feed-ranking:serving-cost',
    },
  },
  addStacks: () => [],
};

/** The fixture with some fields replaced, e.g. `fixtureDesign({ id: 'other' })`. */
export function fixtureDesign(overrides: Partial<Design> = {}): Design {
  return { ...feedRanking, ...overrides };
}

/** A registry holding the given designs, as `lib/designs/index.ts` holds the real ones. */
export function registry(...designs: readonly Design[]): Record<string, Design> {
  return Object.fromEntries(designs.map((design) => [design.id, design]));
}
