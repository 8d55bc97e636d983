import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ApiGatewayAccount } from '../../../../lib/platform/constructs/serving/api-gateway-account';

describe('ApiGatewayAccount', () => {
  test('sets the account CloudWatch role, both retained, under the logical IDs a stack gave them itself', () => {
    // GIVEN the role and the setting as a stack used to build them
    const reference = new Stack();
    const role = new iam.Role(reference, 'ApiGatewayCloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    });
    new apigateway.CfnAccount(reference, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    // WHEN the construct builds them
    const stack = new Stack();
    const account = new ApiGatewayAccount(stack, 'ApiGatewayAccount');
    const template = Template.fromStack(stack);
    // THEN they keep the reference's logical IDs, point at each other, and outlive the stack
    const roleId = reference.getLogicalId(role.node.defaultChild as iam.CfnRole);
    expect(stack.getLogicalId(account.cloudWatchRole.node.defaultChild as iam.CfnRole)).toBe(roleId);
    expect(Object.keys(template.findResources('AWS::ApiGateway::Account'))).toEqual(['ApiGatewayAccount']);
    template.hasResource('AWS::ApiGateway::Account', {
      Properties: { CloudWatchRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResource('AWS::IAM::Role', { DeletionPolicy: 'Retain' });
    expect(template.findResources('AWS::IAM::Role')[roleId].Properties.RoleName).toBeUndefined();
  });

  test('removes both on delete where told to', () => {
    const stack = new Stack();
    new ApiGatewayAccount(stack, 'ApiGatewayAccount', { removalPolicy: RemovalPolicy.DESTROY });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::IAM::Role', { DeletionPolicy: 'Delete' });
  });
});
