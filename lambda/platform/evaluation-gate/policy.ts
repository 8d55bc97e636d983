/** Which way a metric improves: log loss is lower-is-better, NDCG and AUC are higher-is-better. */
export type MetricDirection = 'higher-is-better' | 'lower-is-better';

export const METRIC_DIRECTIONS: readonly MetricDirection[] = ['higher-is-better', 'lower-is-better'];

/** What the gate compares, which way is better, and by how much a candidate must win. */
export interface GatePolicy {
  /** The metric that decides, e.g. `ndcg_at_10` or `log_loss`. */
  readonly metric: string;
  readonly direction: MetricDirection;
  /**
   * The values a sane model's metric lies in, bounds included (e.g. `[0, 1]` for NDCG). A metric
   * outside it, of the candidate, the baseline or the champion, never promotes.
   * @default - any finite number
   */
  readonly range?: readonly [number, number];
  /** The trivial model's value of the same metric from the same run (a popularity ranking, the global rate). */
  readonly baselineMetric: string;
  /** Margin over the champion, in the metric's direction (a decrease for lower-is-better); a tie never promotes. */
  readonly minImprovementOverChampion: number;
  /** Margin over the baseline, in the metric's direction. */
  readonly minImprovementOverBaseline: number;
}

/** Every problem of `policy`, each naming its field; empty when the gate can run with it. */
export function policyProblems(policy: GatePolicy): string[] {
  const problems: string[] = [];
  const name = (field: 'metric' | 'baselineMetric') => {
    const value: unknown = policy[field];
    if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,255}$/.test(value)) {
      problems.push(`${field}: a metric name (letters, digits, _ . : -), got ${JSON.stringify(value)}`);
    }
  };
  name('metric');
  name('baselineMetric');
  if (policy.metric === policy.baselineMetric) {
    problems.push('baselineMetric: must differ from metric, or the candidate is compared with itself');
  }
  if (!METRIC_DIRECTIONS.includes(policy.direction)) {
    problems.push(
      `direction: one of ${METRIC_DIRECTIONS.join(', ')}, got ${JSON.stringify(policy.direction)}`,
    );
  }
  for (const field of ['minImprovementOverChampion', 'minImprovementOverBaseline'] as const) {
    const value: unknown = policy[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      problems.push(`${field}: a finite number, at least 0, got ${JSON.stringify(value)}`);
    }
  }
  if (policy.range !== undefined) {
    const [min, max] = policy.range;
    if (
      policy.range.length !== 2 ||
      typeof min !== 'number' ||
      typeof max !== 'number' ||
      Number.isNaN(min) ||
      Number.isNaN(max) ||
      !(min < max)
    ) {
      problems.push(`range: [min, max] with min < max, got ${JSON.stringify(policy.range)}`);
    }
  }
  return problems;
}

/** The environment variables the gate reads its policy from. */
const ENV = {
  metric: 'GATE_METRIC',
  direction: 'GATE_DIRECTION',
  baselineMetric: 'GATE_BASELINE_METRIC',
  minImprovementOverChampion: 'GATE_MIN_IMPROVEMENT_OVER_CHAMPION',
  minImprovementOverBaseline: 'GATE_MIN_IMPROVEMENT_OVER_BASELINE',
  rangeMin: 'GATE_RANGE_MIN',
  rangeMax: 'GATE_RANGE_MAX',
} as const;

/**
 * The gate function's environment for `policy`: the one writer of what `policyFromEnvironment`
 * reads. Throws naming every problem of the policy, so a bad gate fails the synth, not a run.
 */
export function gateEnvironment(policy: GatePolicy): Record<string, string> {
  const problems = policyProblems(policy);
  if (problems.length > 0) throw new Error(`Invalid evaluation gate:\n  - ${problems.join('\n  - ')}`);
  return {
    [ENV.metric]: policy.metric,
    [ENV.direction]: policy.direction,
    [ENV.baselineMetric]: policy.baselineMetric,
    [ENV.minImprovementOverChampion]: String(policy.minImprovementOverChampion),
    [ENV.minImprovementOverBaseline]: String(policy.minImprovementOverBaseline),
    // String(Infinity) is 'Infinity', which Number() reads back: a half-open range survives the trip.
    ...(policy.range
      ? { [ENV.rangeMin]: String(policy.range[0]), [ENV.rangeMax]: String(policy.range[1]) }
      : {}),
  };
}

/** The policy from the function's environment; throws naming every missing or bad variable. */
export function policyFromEnvironment(env: NodeJS.ProcessEnv): GatePolicy {
  const problems: string[] = [];
  const text = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is required`);
    return value ?? '';
  };
  const number = (name: string): number => {
    const raw = env[name];
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || Number.isNaN(value)) {
      problems.push(`${name} must be a number, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const hasMin = env[ENV.rangeMin] !== undefined;
  const hasMax = env[ENV.rangeMax] !== undefined;
  if (hasMin !== hasMax) problems.push(`${ENV.rangeMin} and ${ENV.rangeMax} are set together or not at all`);
  const policy: GatePolicy = {
    metric: text(ENV.metric),
    direction: text(ENV.direction) as MetricDirection,
    baselineMetric: text(ENV.baselineMetric),
    minImprovementOverChampion: number(ENV.minImprovementOverChampion),
    minImprovementOverBaseline: number(ENV.minImprovementOverBaseline),
    ...(hasMin && hasMax ? { range: [number(ENV.rangeMin), number(ENV.rangeMax)] as const } : {}),
  };
  // Variables that are present but wrong are reported once, by the policy's own check.
  if (problems.length === 0) problems.push(...policyProblems(policy));
  if (problems.length > 0) throw new Error(`Invalid gate environment:\n  - ${problems.join('\n  - ')}`);
  return policy;
}
