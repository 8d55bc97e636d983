import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The finding cdk-nag's IAM4 rule reports for a role that attaches `AWSLambdaVPCAccessExecutionRole`. */
export const LAMBDA_VPC_ACCESS_FINDING =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

/**
 * Acknowledges the AWS managed `AWSLambdaVPCAccessExecutionRole`, which aws-cdk-lib attaches to the
 * role of a function in a VPC, on `scope` (the role, or a construct above it). Lambda creates and
 * deletes the function's network interfaces with it; the interfaces' ids are unknown before Lambda
 * creates them, so the policy names `*`
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html).
 */
export function acknowledgeLambdaVpcAccess(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: LAMBDA_VPC_ACCESS_FINDING,
    reason:
      "AWS's managed policy for a Lambda function in a VPC: the network interface actions Lambda needs, on interfaces whose ids " +
      "exist only once Lambda creates them, and the function's own logs " +
      '(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html).',
  });
}
