import type { IConstruct } from 'constructs';
import { acknowledgeActionsWithoutResourceTypes } from './acknowledge-actions-without-resource-types';

/**
 * What active tracing allows a Lambda function (the first two) or a state machine (all four): send
 * segments and telemetry, and read the sampling rules that decide which requests are traced.
 */
export const XRAY_TRACING_ACTIONS: readonly string[] = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];

/**
 * Acknowledges cdk-nag's `AwsSolutions-IAM5[Resource::*]` for the X-Ray actions aws-cdk-lib grants
 * a traced function or state machine on `*`: X-Ray defines no resource type for them
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html). Exact, as
 * `acknowledgeActionsWithoutResourceTypes` is: another action on `*` in the role still fails synth.
 */
export function acknowledgeXrayWrites(role: IConstruct): void {
  acknowledgeActionsWithoutResourceTypes(role, {
    actions: XRAY_TRACING_ACTIONS,
    purpose:
      'active tracing sends trace segments and telemetry to X-Ray, and reads the sampling rules that decide what is traced',
    reference: 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html',
  });
}
