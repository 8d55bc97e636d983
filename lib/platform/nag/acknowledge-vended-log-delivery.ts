import type { IConstruct } from 'constructs';
import { acknowledgeActionsWithoutResourceTypes } from './acknowledge-actions-without-resource-types';

/**
 * The CloudWatch Logs actions a state machine's role needs to deliver its execution logs: Step
 * Functions sends them as vended logs, and sets up the delivery and the log group's resource policy
 * with the role's permissions.
 */
export const VENDED_LOG_DELIVERY_ACTIONS: readonly string[] = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/**
 * Acknowledges cdk-nag's `AwsSolutions-IAM5[Resource::*]` for the log delivery actions aws-cdk-lib
 * grants a state machine that logs to CloudWatch Logs. AWS documents them on `"Resource": "*"`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html). Exact, as
 * `acknowledgeActionsWithoutResourceTypes` is: another action on `*` in the role still fails synth.
 */
export function acknowledgeVendedLogDelivery(role: IConstruct): void {
  acknowledgeActionsWithoutResourceTypes(role, {
    actions: VENDED_LOG_DELIVERY_ACTIONS,
    purpose:
      "Step Functions delivers the state machine's execution logs to its log group as vended logs, set up with the role's permissions",
    reference: 'https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html',
  });
}
