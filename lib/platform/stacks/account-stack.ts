import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ApiGatewayAccount } from '../constructs/serving/api-gateway-account';

/** One stack per account and region, shared by every design and profile: the same name everywhere. */
export const ACCOUNT_STACK_NAME = 'MlSystemBlueprint-account';

/**
 * Settings that belong to the account and region, not to a design: today, the role API Gateway
 * writes CloudWatch logs with, which a first deploy into a fresh account needs before any REST API
 * stage can log. Every API in the account and region uses it: a design's stack that owned it would
 * delete the role every other API logs through when it is destroyed. So it lives here, every
 * serving stack depends on this stack, and both the role and the setting are retained when the
 * stack is deleted (see `ApiGatewayAccount`).
 */
export class AccountStack extends Stack {
  public readonly apiGatewayAccount: ApiGatewayAccount;
  public readonly apiGatewayCloudWatchRole: iam.Role;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { stackName: ACCOUNT_STACK_NAME, ...props });
    this.apiGatewayAccount = new ApiGatewayAccount(this, 'ApiGatewayAccount');
    this.apiGatewayCloudWatchRole = this.apiGatewayAccount.cloudWatchRole;
    // Shared by every design: a design's tags would flip on each design's deploy.
    for (const key of ['blueprint:design', 'blueprint:profile']) Tags.of(this).remove(key, { priority: 200 });
  }
}
