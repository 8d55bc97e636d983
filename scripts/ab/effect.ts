/**
 * The smallest effect an A/B test is planned to detect, and the impressions per variant that
 * detecting it takes. `ab:plan` prints it; `ab:report` checks the counts against it.
 */
import { sampleSizePerGroup } from './statistics';

/** A lift of the CTR over the baseline: relative (0.1 = +10%) or absolute (0.005 = +0.5 points). */
export interface MinimumEffect {
  readonly kind: 'relative' | 'absolute';
  readonly value: number;
}

export interface PlannedSample {
  readonly baselineCtr: number;
  readonly effect: MinimumEffect;
  /** The challenger's CTR the test is powered for. */
  readonly targetCtr: number;
  readonly alpha: number;
  readonly power: number;
  /** Impressions each variant needs, rounded up. */
  readonly perVariant: number;
}

export function targetCtr(baselineCtr: number, effect: MinimumEffect): number {
  return effect.kind === 'relative' ? baselineCtr * (1 + effect.value) : baselineCtr + effect.value;
}

/** Describes why the target CTR is not a rate, or undefined when it is one. */
export function effectProblem(baselineCtr: number, effect: MinimumEffect): string | undefined {
  const target = targetCtr(baselineCtr, effect);
  if (target > 0 && target < 1) return undefined;
  const option = effect.kind === 'relative' ? '--mde' : '--mde-absolute';
  return `${option} ${effect.value} on a baseline CTR of ${baselineCtr} asks for a CTR of ${Number(target.toPrecision(12))}, which is not in (0, 1)`;
}

/**
 * The effect of `--mde` or `--mde-absolute`; a problem when neither or both are given, or the lift
 * is zero. `problem` is called for each; undefined then.
 */
export function effectOption(
  mde: number | undefined,
  mdeAbsolute: number | undefined,
  problem: (message: string) => void,
): MinimumEffect | undefined {
  if (mde !== undefined && mdeAbsolute !== undefined) {
    problem('--mde and --mde-absolute exclude each other: give the lift as relative or as absolute');
    return undefined;
  }
  if (mde === undefined && mdeAbsolute === undefined) {
    problem('--mde (relative lift) or --mde-absolute (absolute lift) is required');
    return undefined;
  }
  const effect: MinimumEffect =
    mde !== undefined ? { kind: 'relative', value: mde } : { kind: 'absolute', value: mdeAbsolute! };
  if (effect.value === 0) {
    problem(
      `${effect.kind === 'relative' ? '--mde' : '--mde-absolute'} must not be 0: no test detects no lift`,
    );
    return undefined;
  }
  return effect;
}

export function plannedSample(
  baselineCtr: number,
  effect: MinimumEffect,
  alpha: number,
  power: number,
): PlannedSample {
  const target = targetCtr(baselineCtr, effect);
  const n = sampleSizePerGroup({ p1: baselineCtr, p2: target, alpha, power });
  return { baselineCtr, effect, targetCtr: target, alpha, power, perVariant: Math.ceil(n) };
}

/** `+10% relative (CTR 5.00% -> 5.50%)`. */
export function describeEffect(plan: Pick<PlannedSample, 'baselineCtr' | 'effect' | 'targetCtr'>): string {
  const { effect } = plan;
  const lift =
    effect.kind === 'relative'
      ? `${signed(effect.value * 100, 2)}% relative`
      : `${signed(effect.value * 100, 3)} percentage points absolute`;
  return `${lift} (CTR ${percent(plan.baselineCtr)} -> ${percent(plan.targetCtr)})`;
}

/** `31,234`. */
export function count(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

export function percent(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : 'n/a';
}

function signed(value: number, digits: number): string {
  const text = Number(value.toFixed(digits)).toString();
  return value >= 0 ? `+${text}` : text;
}
