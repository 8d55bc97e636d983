import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { IModelEndpoint } from '../ml/model-endpoint-base';
import type { EndpointAlarmThresholds } from './alarm-thresholds';

/** The alarms of one production variant. */
export interface VariantAlarms {
  readonly variantName: string;
  /** 5xx answers in a minute above what the error budget allows the variant. */
  readonly errors: cloudwatch.Alarm;
  /** p99 model latency above what the serving functions wait for. */
  readonly latency: cloudwatch.Alarm;
}

/**
 * What the alarms of an endpoint built before thresholds were derived watched: any 5xx in a minute,
 * a p99 over one second.
 */
export const DEFAULT_ENDPOINT_ALARM_THRESHOLDS: EndpointAlarmThresholds = {
  p99ModelLatency: Duration.seconds(1),
  maxErrorShare: 0,
  peakRequestsPerMinute: 0,
};

/**
 * The alarms of a model endpoint, per variant: the same alarms roll a blue/green deployment back
 * (the endpoint's guardrails) and page through `action`, so the canary is judged by what pages.
 * Created in `scope` as `<variant>Errors` and `<variant>Latency`; the endpoint passes itself, which
 * keeps the logical IDs its rollback alarms have always had.
 */
export function endpointAlarms(
  scope: Construct,
  endpoint: IModelEndpoint,
  thresholds: EndpointAlarmThresholds = DEFAULT_ENDPOINT_ALARM_THRESHOLDS,
  action?: cloudwatch.IAlarmAction,
): VariantAlarms[] {
  const totalWeight = endpoint.variants.reduce((sum, v) => sum + v.weight, 0);
  return endpoint.variants.map((variant) => {
    const variantName = variant.name;
    // A count, not a share: guardrails judge a canary by the alarm's state, and a count alarm needs
    // no metric math. The count is the error budget's share of the variant's peak requests per
    // minute, and at least one: a variant taking a trickle of traffic rolls back on its first 5xx.
    const share = totalWeight > 0 ? variant.weight / totalWeight : 1;
    const errorsPerMinute = Math.max(
      1,
      Math.floor(thresholds.maxErrorShare * thresholds.peakRequestsPerMinute * share),
    );
    const errors = endpoint
      .metricInvocation5XXErrors({ variantName })
      .createAlarm(scope, `${variantName}Errors`, {
        alarmDescription: `Endpoint variant ${variantName} answers ${errorsPerMinute} or more 5xx a minute; rolls a deployment back`,
        threshold: errorsPerMinute,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // No requests, no errors: an idle variant is healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const latencyMs = thresholds.p99ModelLatency.toMilliseconds();
    const latency = endpoint
      .metricModelLatency({ variantName, statistic: cloudwatch.Stats.p(99) })
      .createAlarm(scope, `${variantName}Latency`, {
        alarmDescription: `Endpoint variant ${variantName} p99 model latency above ${latencyMs} ms; rolls a deployment back`,
        // ModelLatency is reported in microseconds.
        threshold: latencyMs * 1000,
        evaluationPeriods: 2,
        // No requests, no latency to judge: an idle variant is healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    if (action) {
      errors.addAlarmAction(action);
      latency.addAlarmAction(action);
    }
    return { variantName, errors, latency };
  });
}
