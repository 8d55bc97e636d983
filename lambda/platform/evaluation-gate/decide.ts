/** What the gate compares, and by how much a candidate must win. */
export interface GatePolicy {
  /** The metric that decides, e.g. `ndcg_at_10`; higher is better. */
  readonly metric: string;
  /** The popularity baseline's value of the same metric, e.g. `popularity_ndcg_at_10`. */
  readonly baselineMetric: string;
  /** Absolute margin over the champion; a tie never promotes. */
  readonly minImprovementOverChampion: number;
  /** Absolute margin over the popularity baseline. */
  readonly minImprovementOverBaseline: number;
}

export type Decision = 'promote' | 'reject' | 'invalid';

export interface GateResult {
  readonly decision: Decision;
  readonly reasons: string[];
  readonly candidate?: number;
  readonly baseline?: number;
  readonly champion?: number;
}

/**
 * Decides whether a candidate replaces the champion. Fails closed: metrics that are missing, not
 * numbers, or outside [0, 1] never promote. Without a champion (the first trained model), beating
 * the popularity baseline is enough.
 */
export function decide(candidateMetrics: unknown, championMetrics: unknown, policy: GatePolicy): GateResult {
  const candidate = readMetric(candidateMetrics, policy.metric);
  const baseline = readMetric(candidateMetrics, policy.baselineMetric);
  const problems: string[] = [];
  if (candidate === undefined) problems.push(`candidate metrics lack a valid ${policy.metric}`);
  if (baseline === undefined) problems.push(`candidate metrics lack a valid ${policy.baselineMetric}`);
  const champion = championMetrics === undefined ? undefined : readMetric(championMetrics, policy.metric);
  if (championMetrics !== undefined && champion === undefined) {
    problems.push(`champion metrics lack a valid ${policy.metric}`);
  }
  if (problems.length > 0 || candidate === undefined || baseline === undefined) {
    return { decision: 'invalid', reasons: problems, candidate, baseline, champion };
  }

  const reasons: string[] = [];
  const overBaseline = candidate - baseline;
  if (!(overBaseline > 0 && overBaseline >= policy.minImprovementOverBaseline)) {
    reasons.push(
      `${policy.metric} ${fmt(candidate)} does not beat popularity ${fmt(baseline)} by ${policy.minImprovementOverBaseline}`,
    );
  }
  if (champion !== undefined) {
    const overChampion = candidate - champion;
    if (!(overChampion > 0 && overChampion >= policy.minImprovementOverChampion)) {
      reasons.push(
        `${policy.metric} ${fmt(candidate)} does not beat the champion's ${fmt(champion)} by ${policy.minImprovementOverChampion}`,
      );
    }
  }
  if (reasons.length > 0) return { decision: 'reject', reasons, candidate, baseline, champion };
  return {
    decision: 'promote',
    reasons: [
      champion === undefined
        ? `${policy.metric} ${fmt(candidate)} beats popularity ${fmt(baseline)}; no champion yet`
        : `${policy.metric} ${fmt(candidate)} beats the champion's ${fmt(champion)} and popularity ${fmt(baseline)}`,
    ],
    candidate,
    baseline,
    champion,
  };
}

function readMetric(metrics: unknown, name: string): number | undefined {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return undefined;
  const value = (metrics as Record<string, unknown>)[name];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
}

function fmt(value: number): string {
  return value.toFixed(4);
}
