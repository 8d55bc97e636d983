import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  ctrMetrics,
  type ClickThroughSource,
} from '../../../../lib/platform/constructs/monitoring/ctr-metrics';

/** Counts as a recording construct publishes them: its own names and dimensions. */
const source: ClickThroughSource = {
  metricImpressions: (variant, props) =>
    new cloudwatch.Metric({
      namespace: 'FeedRanking',
      metricName: 'Impressions',
      ...props,
      dimensionsMap: { Variant: variant },
    }),
  metricClicks: (variant, props) =>
    new cloudwatch.Metric({
      namespace: 'FeedRanking',
      metricName: 'Clicks',
      ...props,
      dimensionsMap: { service: 'feedback', Variant: variant },
    }),
};

describe('ctrMetrics', () => {
  test("Clicks / Impressions of one variant, summed, with the source's own names and dimensions", () => {
    const { impressions, clicks, ctr } = ctrMetrics(source, 'champion');
    expect([impressions.namespace, impressions.metricName, impressions.dimensions]).toEqual([
      'FeedRanking',
      'Impressions',
      { Variant: 'champion' },
    ]);
    expect([clicks.metricName, clicks.dimensions, clicks.statistic]).toEqual([
      'Clicks',
      { service: 'feedback', Variant: 'champion' },
      'Sum',
    ]);
    expect(ctr.expression).toBe(
      'IF(impressions_champion > 0, FILL(clicks_champion, 0) / impressions_champion)',
    );
  });

  test('the variants of a design share one graph without clashing ids', () => {
    // GIVEN a graph of two variants' CTR, one with a dash in its name
    const stack = new Stack();
    new cloudwatch.Dashboard(stack, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            left: ['champion', 'challenger-2'].map((v) => ctrMetrics(source, v).ctr),
          }),
        ],
      ],
    });
    // WHEN it synthesizes THEN both expressions render, each over its own inputs
    const body = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(body).toContain('impressions_champion');
    expect(body).toContain('impressions_challenger_2');
  });
});
