/**
 * The readout of an A/B test on CTR from impressions and clicks per variant: each variant's CTR
 * with its Wilson interval, and each challenger against the champion (the design's first variant):
 * the z-test, the absolute and relative lift with their intervals, whether the planned sample is
 * reached, and a verdict.
 */
import {
  differenceInterval,
  rate,
  relativeLiftInterval,
  twoProportionZTest,
  wilsonInterval,
  type Counts,
  type Interval,
} from './statistics';

export interface VariantCounts {
  readonly variant: string;
  readonly impressions: number;
  readonly clicks: number;
}

export const VERDICTS = [
  'challenger better',
  'challenger worse',
  'no significant difference',
  'not enough data yet',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * Least expected clicks, and expected non-clicks, of each variant under H0 for the z-test's normal
 * approximation to hold (the usual rule for a 2x2 table's chi-square, of which z² is one).
 */
export const MIN_EXPECTED_COUNT = 5;

export interface VariantReadout extends VariantCounts {
  readonly ctr: number;
  readonly ctrInterval: Interval;
}

export interface Comparison {
  readonly challenger: string;
  readonly champion: string;
  /** Undefined while either variant has no impressions. */
  readonly z?: number;
  readonly pValue?: number;
  /** CTR(challenger) − CTR(champion) and its interval. */
  readonly absoluteLift?: number;
  readonly absoluteLiftInterval?: Interval;
  /** CTR(challenger) / CTR(champion) − 1 and its interval; undefined while either has no click. */
  readonly relativeLift?: number;
  readonly relativeLiftInterval?: Interval;
  /** Whether both variants hold the planned impressions; undefined without a plan. */
  readonly plannedSampleReached?: boolean;
  readonly verdict: Verdict;
  /** Why, in words. */
  readonly reason: string;
}

export interface Readout {
  readonly confidence: number;
  readonly alpha: number;
  readonly plannedSamplePerVariant?: number;
  readonly variants: readonly VariantReadout[];
  readonly comparisons: readonly Comparison[];
}

export interface ReadoutOptions {
  /** Two-sided significance level of the test; the intervals are at 1 − alpha. */
  readonly alpha: number;
  /** Impressions each variant must hold before a verdict other than "not enough data yet". */
  readonly plannedSamplePerVariant?: number;
}

const asCounts = (v: VariantCounts): Counts => ({ trials: v.impressions, successes: v.clicks });

/**
 * Compares every variant other than `champion` with it. A variant missing from `counts` counts as
 * no impressions.
 */
export function readout(
  counts: readonly VariantCounts[],
  champion: string,
  options: ReadoutOptions,
): Readout {
  const confidence = 1 - options.alpha;
  const variants = counts.map((v) => ({
    ...v,
    ctr: rate(asCounts(v)),
    ctrInterval: wilsonInterval(asCounts(v), confidence),
  }));
  const base = counts.find((v) => v.variant === champion) ?? { variant: champion, impressions: 0, clicks: 0 };
  const comparisons = counts
    .filter((v) => v.variant !== champion)
    .map((challenger) => compare(base, challenger, options));
  return {
    confidence,
    alpha: options.alpha,
    ...(options.plannedSamplePerVariant ? { plannedSamplePerVariant: options.plannedSamplePerVariant } : {}),
    variants,
    comparisons,
  };
}

function compare(champion: VariantCounts, challenger: VariantCounts, options: ReadoutOptions): Comparison {
  const names = { challenger: challenger.variant, champion: champion.variant };
  const planned = options.plannedSamplePerVariant;
  const reached =
    planned === undefined ? undefined : Math.min(champion.impressions, challenger.impressions) >= planned;
  if (champion.impressions === 0 || challenger.impressions === 0) {
    const empty = champion.impressions === 0 ? champion.variant : challenger.variant;
    return {
      ...names,
      ...(reached === undefined ? {} : { plannedSampleReached: reached }),
      verdict: 'not enough data yet',
      reason: `${empty} has no impressions`,
    };
  }
  const a = asCounts(champion);
  const b = asCounts(challenger);
  const confidence = 1 - options.alpha;
  const { z, pValue } = twoProportionZTest(a, b);
  const relativeInterval = relativeLiftInterval(a, b, confidence);
  const measured = {
    ...names,
    z,
    pValue,
    absoluteLift: rate(b) - rate(a),
    absoluteLiftInterval: differenceInterval(a, b, confidence),
    ...(a.successes > 0 ? { relativeLift: rate(b) / rate(a) - 1 } : {}),
    ...(relativeInterval ? { relativeLiftInterval: relativeInterval } : {}),
    ...(reached === undefined ? {} : { plannedSampleReached: reached }),
  };
  const { verdict, reason } = decide(a, b, z, pValue, options, reached);
  return { ...measured, verdict, reason };
}

function decide(
  a: Counts,
  b: Counts,
  z: number,
  pValue: number,
  options: ReadoutOptions,
  reached: boolean | undefined,
): { verdict: Verdict; reason: string } {
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const leastExpected = Math.min(a.trials, b.trials) * Math.min(pooled, 1 - pooled);
  if (leastExpected < MIN_EXPECTED_COUNT) {
    return {
      verdict: 'not enough data yet',
      reason: `a variant expects ${leastExpected.toFixed(1)} clicks or non-clicks, fewer than the ${MIN_EXPECTED_COUNT} the normal approximation needs`,
    };
  }
  const p = `p = ${formatP(pValue)}`;
  if (reached === false) {
    return {
      verdict: 'not enough data yet',
      reason:
        `the smaller variant holds ${Math.min(a.trials, b.trials).toLocaleString('en-US')} of the planned ` +
        `${options.plannedSamplePerVariant!.toLocaleString('en-US')} impressions; ${p} so far, and stopping on it early inflates false positives`,
    };
  }
  const unplanned =
    reached === undefined ? '; no planned sample given, so a look at any time is taken at face value' : '';
  if (pValue < options.alpha) {
    return {
      verdict: z > 0 ? 'challenger better' : 'challenger worse',
      reason: `${p} < alpha ${options.alpha}${unplanned}`,
    };
  }
  return { verdict: 'no significant difference', reason: `${p} >= alpha ${options.alpha}${unplanned}` };
}

/** `0.0123`, `3.2e-9`. */
export function formatP(p: number): string {
  return p >= 0.0001 ? p.toFixed(4) : p.toExponential(1);
}
