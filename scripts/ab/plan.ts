/**
 * `npm run ab:plan`: how many impressions each A/B variant needs to detect a given CTR lift, and
 * how many days a design's traffic takes to collect them in its smallest variant.
 *
 *   npm run ab:plan -- --baseline-ctr 0.05 (--mde 0.1 | --mde-absolute 0.005) [--alpha 0.05]
 *                      [--power 0.8] [--design <id>] [--items-per-request N] [--json]
 *
 * Exit code 0 on success, 2 on bad usage.
 */
import { DESIGNS } from '../../lib/designs';
import { Cli, EXIT, decimal, integer, oneOf, runMain } from '../support/cli';
import {
  count,
  describeEffect,
  effectOption,
  effectProblem,
  percent,
  plannedSample,
  type MinimumEffect,
  type PlannedSample,
} from './effect';
import { servedItemsPerRequest, variantTraffic, type VariantTraffic } from './traffic';

export interface PlanOptions {
  readonly baselineCtr: number;
  readonly effect: MinimumEffect;
  readonly alpha: number;
  readonly power: number;
  readonly design: string;
  /** Overrides the design's served list length. */
  readonly itemsPerRequest?: number;
  readonly json: boolean;
}

/** What `ab:plan` prints, as `--json` prints it. */
export interface Plan {
  readonly design: string;
  readonly sample: PlannedSample;
  readonly traffic: {
    readonly dailyActiveUsers: number;
    readonly requestsPerUserPerDay: number;
    readonly itemsPerRequest: number;
    readonly itemsPerRequestSource: string;
    readonly variants: readonly (VariantTraffic & { readonly daysToReach: number })[];
  };
  /** Days until the smallest variant holds `sample.perVariant` impressions. */
  readonly daysNeeded: number;
  readonly smallestVariant: string;
  readonly assumptions: readonly string[];
}

/** The command line of `npm run ab:plan`. */
export function planCli(): Cli {
  return new Cli({
    name: 'ab:plan',
    usage: 'npm run ab:plan --',
    description:
      'Sample size per variant for a two-sided two-proportion z-test of the CTR, and the days the ' +
      "design's traffic needs to collect it in its smallest A/B variant.",
    notes: [
      'The lift to detect is relative with --mde (0.1: CTR 5% -> 5.5%) or absolute with --mde-absolute',
      '(0.005: CTR 5% -> 5.5%); give exactly one. Traffic comes from the design (lib/designs): its',
      'dailyActiveUsers, requestsPerUserPerDay, the list length it serves and its abVariants weights.',
      '',
      'Example:',
      '  npm run ab:plan -- --baseline-ctr 0.05 --mde 0.1',
    ].join('\n'),
  })
    .option(
      '--baseline-ctr <rate>',
      "the champion's CTR (clicks per served item)",
      decimal(0, 1, { exclusiveMin: true }),
      undefined,
      'none, required',
    )
    .option(
      '--mde <lift>',
      'minimum detectable lift, RELATIVE to the baseline (0.1 = +10%)',
      decimal(-1, 100),
      undefined,
      'none: give --mde or --mde-absolute',
    )
    .option(
      '--mde-absolute <lift>',
      'minimum detectable lift, ABSOLUTE in CTR (0.005 = +0.5 percentage points)',
      decimal(-1, 1),
      undefined,
      'none: give --mde or --mde-absolute',
    )
    .option('--alpha <level>', 'two-sided significance level', decimal(0, 0.5, { exclusiveMin: true }), 0.05)
    .option(
      '--power <probability>',
      'probability of detecting the lift when it is real',
      decimal(0.5, 0.9999),
      0.8,
    )
    .option(
      '--design <id>',
      'design whose traffic and A/B split to plan with',
      oneOf(Object.keys(DESIGNS)),
      Object.keys(DESIGNS)[0],
    )
    .option(
      '--items-per-request <count>',
      'items one request serves (impressions per request)',
      integer(1, 100),
      undefined,
      "the design's served list length",
    )
    .flag('--json', 'print one JSON object instead of the text');
}

/** Options from a command line; throws UsageError naming every bad option, or HelpShown. */
export function parsePlanArgs(argv: readonly string[]): PlanOptions {
  const values = planCli().parse<{
    baselineCtr?: number;
    mde?: number;
    mdeAbsolute?: number;
    alpha: number;
    power: number;
    design: string;
    itemsPerRequest?: number;
    json: boolean;
  }>(argv, (v, problem) => {
    if (v.baselineCtr === undefined) problem('--baseline-ctr is required: a CTR in (0, 1)');
    const effect = effectOption(v.mde, v.mdeAbsolute, problem);
    if (typeof v.baselineCtr === 'number' && effect && typeof effect.value === 'number') {
      if (v.baselineCtr >= 1) problem('--baseline-ctr must be below 1');
      else {
        const bad = effectProblem(v.baselineCtr, effect);
        if (bad) problem(bad);
      }
    }
  });
  return {
    baselineCtr: values.baselineCtr!,
    effect: effectOption(values.mde, values.mdeAbsolute, () => undefined)!,
    alpha: values.alpha,
    power: values.power,
    design: values.design,
    ...(values.itemsPerRequest ? { itemsPerRequest: values.itemsPerRequest } : {}),
    json: values.json,
  };
}

export function plan(options: PlanOptions): Plan {
  const design = DESIGNS[options.design];
  const sample = plannedSample(options.baselineCtr, options.effect, options.alpha, options.power);
  const served = options.itemsPerRequest
    ? { items: options.itemsPerRequest, source: '--items-per-request' }
    : servedItemsPerRequest(design);
  const variants = variantTraffic(design, served.items).map((v) => ({
    ...v,
    daysToReach:
      v.impressionsPerDay > 0 ? Math.max(1, Math.ceil(sample.perVariant / v.impressionsPerDay)) : Infinity,
  }));
  const smallest = variants.reduce((a, b) => (b.impressionsPerDay < a.impressionsPerDay ? b : a));
  return {
    design: design.id,
    sample,
    traffic: {
      dailyActiveUsers: design.requirements.dailyActiveUsers,
      requestsPerUserPerDay: design.requirements.requestsPerUserPerDay,
      itemsPerRequest: served.items,
      itemsPerRequestSource: served.source,
      variants,
    },
    daysNeeded: smallest.daysToReach,
    smallestVariant: smallest.name,
    assumptions: [
      `the test: two-sided two-proportion z-test at alpha ${options.alpha}, power ${options.power}, ` +
        'sample size by Fleiss without continuity correction (as R power.prop.test)',
      'an impression is one served item and is one independent trial; clicks of one user are correlated, ' +
        'so the real variance is larger and the days are a lower bound',
      `every variant needs the same ${count(sample.perVariant)} impressions; a larger champion only adds power`,
      `traffic is the design's stated load: ${count(design.requirements.dailyActiveUsers)} daily active users x ` +
        `${design.requirements.requestsPerUserPerDay} requests x ${served.items} items (${served.source}), ` +
        'split by the abVariants weights (users are assigned by a stable hash)',
      'run whole weeks in any case: a CTR differs between weekdays and weekends',
    ],
  };
}

export function formatPlan(result: Plan): string[] {
  const { sample, traffic } = result;
  const rows = traffic.variants.map((v) => [
    v.name,
    percent(v.share, 1),
    count(Math.round(v.impressionsPerDay)),
    Number.isFinite(v.daysToReach) ? String(v.daysToReach) : 'never',
  ]);
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(
      ...[['variant', 'share', 'impressions/day', 'days to reach'][i], ...rows.map((r) => r[i])].map(
        (c) => c.length,
      ),
    ),
  );
  const line = (cells: string[]): string =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  return [
    `A/B plan for ${result.design}`,
    `  baseline CTR        ${percent(sample.baselineCtr)}`,
    `  lift to detect      ${describeEffect(sample)}`,
    `  alpha (two-sided)   ${sample.alpha}`,
    `  power               ${sample.power}`,
    `  sample per variant  ${count(sample.perVariant)} impressions`,
    '',
    line(['variant', 'share', 'impressions/day', 'days to reach']),
    ...rows.map(line),
    '',
    `days needed: ${Number.isFinite(result.daysNeeded) ? result.daysNeeded : 'never (the variant gets no traffic)'} ` +
      `(the smallest variant, ${result.smallestVariant}, reaching ${count(sample.perVariant)} impressions)`,
    '',
    'assumptions:',
    ...result.assumptions.map((a) => `  - ${a}`),
  ];
}

if (require.main === module) {
  runMain('ab:plan', () => {
    const options = parsePlanArgs(process.argv.slice(2));
    const result = plan(options);
    console.log(options.json ? JSON.stringify(result, null, 2) : formatPlan(result).join('\n'));
    return EXIT.ok;
  });
}
