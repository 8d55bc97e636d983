import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Where a design counts, per A/B variant, the items it served and the clicks on them: the construct
 * that records them owns the metric names and dimensions (e.g. the recommender's `FeedbackLoop`), so
 * the dashboard builds the rate from its helpers and cannot drift from what is published.
 */
export interface ClickThroughSource {
  metricImpressions(variant: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricClicks(variant: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** A variant's click-through rate and the two counts it is computed from. */
export interface CtrMetrics {
  readonly impressions: cloudwatch.Metric;
  readonly clicks: cloudwatch.Metric;
  /** Clicks / Impressions over the period; empty where nothing was shown. */
  readonly ctr: cloudwatch.MathExpression;
}

/** The click-through rate of one A/B variant. */
export function ctrMetrics(
  source: ClickThroughSource,
  variantName: string,
  period: Duration = Duration.hours(1),
): CtrMetrics {
  const options = (name: string): cloudwatch.MetricOptions => ({
    statistic: cloudwatch.Stats.SUM,
    period,
    label: `${name} (${variantName})`,
  });
  const impressions = source.metricImpressions(variantName, options('Impressions'));
  const clicks = source.metricClicks(variantName, options('Clicks'));
  // Ids are per graph: the variants' expressions share one, so each names its own inputs.
  const suffix = variantName.replace(/[^A-Za-z0-9_]/g, '_');
  const [i, c] = [`impressions_${suffix}`, `clicks_${suffix}`];
  return {
    impressions,
    clicks,
    ctr: new cloudwatch.MathExpression({
      // Clicks without impressions in the period (late feedback) would divide by zero: no value then.
      expression: `IF(${i} > 0, FILL(${c}, 0) / ${i})`,
      usingMetrics: { [i]: impressions, [c]: clicks },
      label: `CTR (${variantName})`,
      period,
    }),
  };
}
