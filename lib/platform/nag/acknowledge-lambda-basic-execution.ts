import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The finding cdk-nag's IAM4 rule reports for a role that attaches `AWSLambdaBasicExecutionRole`. */
export const LAMBDA_BASIC_EXECUTION_FINDING =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * Acknowledges the AWS managed `AWSLambdaBasicExecutionRole` on `scope` (a function's role, or a
 * construct above it). It is the policy Lambda documents for a function's own logs, and it grants
 * `logs:CreateLogGroup`, `logs:CreateLogStream` and `logs:PutLogEvents`: no read of any log, and no
 * other service (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html).
 */
export function acknowledgeLambdaBasicExecution(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: LAMBDA_BASIC_EXECUTION_FINDING,
    reason:
      "AWS's managed policy for a Lambda function's own logs: logs:CreateLogGroup, CreateLogStream and PutLogEvents, nothing else " +
      '(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html).',
  });
}
