/**
 * The statistics of an A/B test on a click-through rate: each served item is one Bernoulli trial,
 * a click on it one success. Normal quantiles and probabilities come from @stdlib; everything else
 * is the closed form of the method named on each function.
 *
 * - CTR interval: Wilson's score interval (Wilson 1927; method 3 of Newcombe 1998a), which stays
 *   inside [0, 1] and keeps its coverage at the small rates and counts an A/B test starts with.
 * - Test: the two-proportion z-test with the variance pooled under H0, two-sided; its square is
 *   Pearson's chi-square of the 2x2 table without continuity correction (R `prop.test(correct=FALSE)`).
 * - Absolute lift interval: Newcombe's hybrid score interval (method 10 of Newcombe 1998b), built
 *   from the two Wilson intervals.
 * - Relative lift interval: the log risk-ratio interval (Katz et al. 1978).
 * - Sample size and power: Fleiss' normal approximation without continuity correction, as R's
 *   `power.prop.test` solves it (equal groups, H0 variance pooled, H1 variance unpooled).
 */
import cdf from '@stdlib/stats-base-dists-normal-cdf';
import quantile from '@stdlib/stats-base-dists-normal-quantile';

/** Trials (impressions) and successes (clicks) of one variant. */
export interface Counts {
  readonly trials: number;
  readonly successes: number;
}

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

/** The standard normal's quantile, Φ⁻¹(p). */
export function normalQuantile(p: number): number {
  return quantile(p, 0, 1);
}

/** The standard normal's distribution function, Φ(x). */
export function normalCdf(x: number): number {
  return cdf(x, 0, 1);
}

/** z of a two-sided interval or test at `confidence` (1.96 at 0.95). */
function twoSidedZ(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2);
}

function checkCounts({ trials, successes }: Counts, name: string): void {
  if (!Number.isInteger(trials) || trials < 0) throw new RangeError(`${name}.trials must be an integer >= 0`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`${name}.successes must be an integer in [0, trials]`);
  }
}

/** successes / trials; NaN when there were no trials. */
export function rate(counts: Counts): number {
  return counts.trials === 0 ? Number.NaN : counts.successes / counts.trials;
}

/**
 * Wilson's score interval for one proportion: the p whose score test at this confidence does not
 * reject, (p̂ + z²/2n ± z·√(p̂q̂/n + z²/4n²)) / (1 + z²/n). [0, 1] when there were no trials.
 */
export function wilsonInterval(counts: Counts, confidence = 0.95): Interval {
  checkCounts(counts, 'counts');
  const { trials: n, successes: x } = counts;
  if (n === 0) return { lower: 0, upper: 1 };
  const z = twoSidedZ(confidence);
  const p = x / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  // At x = 0 or x = n one bound is exactly 0 or 1; rounding must not push it past.
  return {
    lower: x === 0 ? 0 : Math.max(0, (centre - spread) / denominator),
    upper: x === n ? 1 : Math.min(1, (centre + spread) / denominator),
  };
}

export interface ZTest {
  /** (p̂_b − p̂_a) / SE under H0; positive when b's rate is higher. 0 when nothing differs. */
  readonly z: number;
  /** Two-sided: 2·(1 − Φ(|z|)). */
  readonly pValue: number;
}

/**
 * The two-proportion z-test of H0 p_a = p_b, variance pooled under H0. Needs trials in both groups;
 * when the pooled rate is 0 or 1 nothing can differ: z = 0, p = 1.
 */
export function twoProportionZTest(a: Counts, b: Counts): ZTest {
  checkCounts(a, 'a');
  checkCounts(b, 'b');
  if (a.trials === 0 || b.trials === 0) throw new RangeError('both groups need at least one trial');
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const variance = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials);
  if (variance === 0) return { z: 0, pValue: 1 };
  const z = (rate(b) - rate(a)) / Math.sqrt(variance);
  // 2·Φ(−|z|) keeps its precision far in the tail, where 1 − Φ(|z|) rounds to 0.
  return { z, pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))) };
}

/**
 * Interval of p_b − p_a by Newcombe's hybrid score method (1998b, method 10): with Wilson limits
 * (l, u) of each rate, [d − √((p̂_b − l_b)² + (u_a − p̂_a)²), d + √((u_b − p̂_b)² + (p̂_a − l_a)²)].
 */
export function differenceInterval(a: Counts, b: Counts, confidence = 0.95): Interval {
  if (a.trials === 0 || b.trials === 0) throw new RangeError('both groups need at least one trial');
  const pa = rate(a);
  const pb = rate(b);
  const wa = wilsonInterval(a, confidence);
  const wb = wilsonInterval(b, confidence);
  const d = pb - pa;
  return {
    lower: d - Math.hypot(pb - wb.lower, wa.upper - pa),
    upper: d + Math.hypot(wb.upper - pb, pa - wa.lower),
  };
}

/**
 * Interval of p_b / p_a − 1 from the log risk ratio (Katz et al. 1978):
 * exp(ln(p̂_b/p̂_a) ± z·√(1/x_b − 1/n_b + 1/x_a − 1/n_a)) − 1. Undefined when either group has no
 * success: the ratio's logarithm has no finite estimate then.
 */
export function relativeLiftInterval(a: Counts, b: Counts, confidence = 0.95): Interval | undefined {
  checkCounts(a, 'a');
  checkCounts(b, 'b');
  if (a.successes === 0 || b.successes === 0) return undefined;
  const logRatio = Math.log(rate(b) / rate(a));
  const se = Math.sqrt(1 / b.successes - 1 / b.trials + 1 / a.successes - 1 / a.trials);
  const z = twoSidedZ(confidence);
  return { lower: Math.exp(logRatio - z * se) - 1, upper: Math.exp(logRatio + z * se) - 1 };
}

export interface SampleSizeInput {
  /** The control's rate. */
  readonly p1: number;
  /** The rate the test must detect. */
  readonly p2: number;
  /** Two-sided significance level. */
  readonly alpha: number;
  /** Probability of rejecting H0 when the rates are p1 and p2. */
  readonly power: number;
}

/**
 * Trials per group for the two-sided two-proportion test (Fleiss, Levin & Paik 2003, chapter 4,
 * without continuity correction): n = (z_{1−α/2}·√(2p̄q̄) + z_{power}·√(p1q1 + p2q2))² / (p1 − p2)²,
 * p̄ = (p1 + p2)/2. Not rounded: round up to plan.
 */
export function sampleSizePerGroup({ p1, p2, alpha, power }: SampleSizeInput): number {
  checkRates(p1, p2);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
  if (!(power > 0 && power < 1)) throw new RangeError('power must be in (0, 1)');
  const pBar = (p1 + p2) / 2;
  const numerator =
    twoSidedZ(1 - alpha) * Math.sqrt(2 * pBar * (1 - pBar)) +
    normalQuantile(power) * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return (numerator * numerator) / ((p1 - p2) * (p1 - p2));
}

/**
 * Power of the same test with n trials per group, counting rejections in the direction of the true
 * difference only (R's `power.prop.test` with strict = FALSE).
 */
export function powerPerGroup(n: number, p1: number, p2: number, alpha: number): number {
  checkRates(p1, p2);
  if (!(n > 0)) throw new RangeError('n must be > 0');
  const pBar = (p1 + p2) / 2;
  const shift = Math.sqrt(n) * Math.abs(p1 - p2) - twoSidedZ(1 - alpha) * Math.sqrt(2 * pBar * (1 - pBar));
  return normalCdf(shift / Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)));
}

function checkRates(p1: number, p2: number): void {
  if (!(p1 > 0 && p1 < 1) || !(p2 > 0 && p2 < 1)) throw new RangeError('p1 and p2 must be in (0, 1)');
  if (p1 === p2) throw new RangeError('p1 and p2 must differ');
}
