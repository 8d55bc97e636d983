import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface ApiGatewayAccountProps {
  /**
   * What deleting the stack does to the role and the setting. Every API of the account and region
   * logs through them, whichever stack made the API.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * API Gateway's account settings for a region: the role it writes CloudWatch logs with.
 *
 * REST API stages refuse execution logging and access logging alike ("CloudWatch Logs role ARN must
 * be set in account settings to enable logging") until the account's CloudWatch role is set
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html). It is one
 * setting that every API in the account and region uses
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html),
 * so both the role and the setting are retained by default. The role's name is generated, so
 * recreating them after a deletion never collides with a retained role.
 *
 * The setting is this construct's `Default` child and the role sits beside it in its scope as
 * `ApiGatewayCloudWatchRole`: both keep the logical IDs they had when a stack built them.
 */
export class ApiGatewayAccount extends Construct {
  /** The role API Gateway assumes to write execution and access logs. */
  public readonly cloudWatchRole: iam.Role;
  /** The account setting that names the role. */
  public readonly account: apigateway.CfnAccount;

  constructor(scope: Construct, id: string, props: ApiGatewayAccountProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.cloudWatchRole = new iam.Role(scope, 'ApiGatewayCloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway writes execution and access logs to CloudWatch Logs (account setting)',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    this.cloudWatchRole.applyRemovalPolicy(removalPolicy);
    this.account = new apigateway.CfnAccount(this, 'Default', {
      cloudWatchRoleArn: this.cloudWatchRole.roleArn,
    });
    this.account.applyRemovalPolicy(removalPolicy);
    Validations.of(this.cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The AWS managed policy API Gateway documents for writing its logs to CloudWatch Logs (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).',
    });
  }
}
