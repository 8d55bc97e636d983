import { RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** One stack per account and region, shared by every design and profile: the same name everywhere. */
export const ACCOUNT_STACK_NAME = 'MlSystemBlueprint-account';

/**
 * Settings that belong to the account and region, not to a design: today, the role API Gateway
 * writes CloudWatch logs with.
 *
 * REST API stages refuse execution logging and access logging alike ("CloudWatch Logs role ARN must
 * be set in account settings to enable logging") until the account's CloudWatch role is set
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html), so a first
 * deploy into a fresh account needs it. It is one setting that every API in the account and region
 * uses (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html):
 * a design's stack that owned it would delete the role every other API logs through when it is
 * destroyed. So it lives here, every serving stack depends on this stack, and both the role and the
 * setting are retained when the stack is deleted. The role's name is generated, so recreating this
 * stack after a deletion never collides with a retained role.
 */
export class AccountStack extends Stack {
  public readonly apiGatewayCloudWatchRole: iam.Role;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { stackName: ACCOUNT_STACK_NAME, ...props });
    this.apiGatewayCloudWatchRole = new iam.Role(this, 'ApiGatewayCloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway writes execution and access logs to CloudWatch Logs (account setting)',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    this.apiGatewayCloudWatchRole.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', {
      cloudWatchRoleArn: this.apiGatewayCloudWatchRole.roleArn,
    });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.apiGatewayCloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The AWS managed policy is the documented, minimal grant for API Gateway to write its logs.',
    });
    // Shared by every design: a design's tags would flip on each design's deploy.
    for (const key of ['blueprint:design', 'blueprint:profile']) Tags.of(this).remove(key, { priority: 200 });
  }
}
