import type { GatePolicy, MetricDirection } from './policy';

export type { GatePolicy, MetricDirection } from './policy';

export type Decision = 'promote' | 'reject' | 'invalid';

export interface GateResult {
  readonly decision: Decision;
  readonly reasons: string[];
  /** The metric that decided, and which way it improves: what a reader of the registry needs. */
  readonly metric?: string;
  readonly direction?: MetricDirection;
  readonly candidate?: number;
  readonly baseline?: number;
  readonly champion?: number;
}

/**
 * Decides whether a candidate replaces the champion. Fails closed: a metric that is missing, not a
 * finite number, or outside the policy's range never promotes (`invalid`), whoever's it is. Without
 * a champion (the first trained model), beating the baseline is enough. Improvements are measured
 * in the metric's direction: for lower-is-better, a candidate improves by being smaller.
 */
export function decide(candidateMetrics: unknown, championMetrics: unknown, policy: GatePolicy): GateResult {
  const problems: string[] = [];
  const read = (metrics: unknown, whose: string, name: string): number | undefined => {
    const found = readMetric(metrics, name, policy.range);
    if (found.problem) problems.push(`${whose} metrics ${found.problem}`);
    return found.value;
  };
  const candidate = read(candidateMetrics, 'candidate', policy.metric);
  const baseline = read(candidateMetrics, 'candidate', policy.baselineMetric);
  const champion =
    championMetrics === undefined ? undefined : read(championMetrics, 'champion', policy.metric);
  const context = { metric: policy.metric, direction: policy.direction };
  if (problems.length > 0 || candidate === undefined || baseline === undefined) {
    return { decision: 'invalid', reasons: problems, ...context, candidate, baseline, champion };
  }

  const reasons: string[] = [];
  if (!wins(candidate, baseline, policy.minImprovementOverBaseline, policy.direction)) {
    reasons.push(
      `${policy.metric} ${fmt(candidate)} does not beat the baseline's ${fmt(baseline)} by ${policy.minImprovementOverBaseline}`,
    );
  }
  if (
    champion !== undefined &&
    !wins(candidate, champion, policy.minImprovementOverChampion, policy.direction)
  ) {
    reasons.push(
      `${policy.metric} ${fmt(candidate)} does not beat the champion's ${fmt(champion)} by ${policy.minImprovementOverChampion}`,
    );
  }
  if (reasons.length > 0) return { decision: 'reject', reasons, ...context, candidate, baseline, champion };
  return {
    decision: 'promote',
    reasons: [
      champion === undefined
        ? `${policy.metric} ${fmt(candidate)} beats the baseline's ${fmt(baseline)}; no champion yet`
        : `${policy.metric} ${fmt(candidate)} beats the champion's ${fmt(champion)} and the baseline's ${fmt(baseline)}`,
    ],
    ...context,
    candidate,
    baseline,
    champion,
  };
}

/** True when `value` improves on `reference` by at least `margin`, and strictly, in `direction`. */
function wins(value: number, reference: number, margin: number, direction: MetricDirection): boolean {
  const improvement = direction === 'lower-is-better' ? reference - value : value - reference;
  return improvement > 0 && improvement >= margin;
}

function readMetric(
  metrics: unknown,
  name: string,
  range: GatePolicy['range'],
): { value?: number; problem?: string } {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
    return { problem: `lack a valid ${name}` };
  }
  const value = (metrics as Record<string, unknown>)[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) return { problem: `lack a valid ${name}` };
  if (range && (value < range[0] || value > range[1])) {
    return { problem: `have ${name} ${value}, outside its range [${range[0]}, ${range[1]}]` };
  }
  return { value };
}

function fmt(value: number): string {
  return value.toFixed(4);
}
