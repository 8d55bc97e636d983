import {
  averageRequestsPerSecond,
  availabilityTarget,
  errorBudget,
} from '../../../lib/platform/config/requirements';
import { document, formatNumber, percent, table } from './markdown';
import { profileNames, type PageInput } from './page-input';

const MINUTES_PER_30_DAYS = 30 * 24 * 60;

/** Step 1: the requirements as numbers, and the sizes `deriveCapacity` makes of them per profile. */
export function problemSection(input: PageInput): string {
  const r = input.design.requirements;
  const totalWeight = input.design.abVariants.reduce((sum, v) => sum + v.weight, 0);
  const requirements = table(
    ['requirement', 'value'],
    [
      ['daily active users', formatNumber(r.dailyActiveUsers)],
      ['requests per active user per day', formatNumber(r.requestsPerUserPerDay)],
      ['average requests/s (derived)', formatNumber(averageRequestsPerSecond(r), 1)],
      ['peak requests/s', formatNumber(r.peakRequestsPerSecond)],
      ['p99 latency target', `${formatNumber(r.p99LatencyMs)} ms`],
      [
        'availability target',
        `${percent(availabilityTarget(r))} of requests over 30 days (${formatNumber(errorBudget(r) * MINUTES_PER_30_DAYS, 1)} min of failures allowed)`,
      ],
      ['retraining cadence', `every ${formatNumber(r.retrainEveryHours)} h`],
      ['share of requests the model endpoint answers', percent(r.modelRequestShare)],
      [
        'A/B split of model traffic',
        input.design.abVariants.map((v) => `${v.name} ${percent(v.weight / totalWeight)}`).join(', '),
      ],
    ],
  );
  const capacity = (pick: (name: (typeof profileNames)[number]) => string) => profileNames.map(pick);
  const of = (name: (typeof profileNames)[number]) => input.profiles[name].config;
  const sizes = table(
    ['size', ...profileNames],
    [
      ['load sized for', ...capacity((n) => `${percent(of(n).profile.loadFraction)} of the peak`)],
      ['API rate limit (requests/s)', ...capacity((n) => formatNumber(of(n).capacity.apiRateLimit))],
      ['API burst limit', ...capacity((n) => formatNumber(of(n).capacity.apiBurstLimit))],
      [
        'serving function concurrency',
        ...capacity((n) => {
          const c = of(n).capacity;
          return `${formatNumber(c.functionConcurrency)}${c.reservedConcurrency === undefined ? ' (not reserved)' : ' (reserved)'}`;
        }),
      ],
      ['serving function timeout', ...capacity((n) => `${of(n).capacity.functionTimeout.toSeconds()} s`)],
      ['model timeout', ...capacity((n) => `${formatNumber(of(n).capacity.modelTimeoutMs)} ms`)],
      [
        'model requests/s at the sized peak',
        ...capacity((n) => formatNumber(of(n).capacity.modelRequestsPerSecond, 1)),
      ],
      [
        'cache command / feature read timeout',
        ...capacity((n) => `${of(n).capacity.cacheCommandTimeoutMs} ms`),
      ],
      [
        'model answer cached for',
        ...capacity((n) => `${formatNumber(of(n).capacity.modelAnswerTtlSeconds)} s`),
      ],
    ],
  );
  return document([
    '## 1 Define the problem',
    "The design's `requirements`; every size of the deployment is derived from them.",
    requirements,
    'Sizes derived from the requirements per profile (`deriveCapacity`, `lib/platform/config/capacity.ts`):',
    sizes,
  ]).trimEnd();
}
