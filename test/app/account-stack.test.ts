import { Match } from 'aws-cdk-lib/assertions';
import { ACCOUNT_STACK_ID } from '../../lib/platform/blueprint';
import { appUnderTest, DESIGNS_AND_PROFILES } from './app-under-test';
import { builtForCollection } from './collect';

describe.each(DESIGNS_AND_PROFILES)(
  'AccountStack of the %s app (%s): account-wide settings shared by every design',
  (design, profile) => {
    const app = builtForCollection(() => appUnderTest(design, profile));
    if (!app) return;

    test('sets the API Gateway CloudWatch role, retained on destroy under a generated name', () => {
      // GIVEN the account stack
      const account = app.template('Account');
      // THEN one stack name serves every design and profile
      expect(app.byRole.Account.node.id).toBe(ACCOUNT_STACK_ID);
      expect(app.byRole.Account.stackName).toBe('MlSystemBlueprint-account');
      // AND the account setting points at a role API Gateway may assume, and both outlive the stack
      account.hasResource('AWS::ApiGateway::Account', {
        Properties: {
          CloudWatchRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiGatewayCloudWatchRole'), 'Arn'] },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      account.hasResource('AWS::IAM::Role', {
        Properties: Match.objectLike({
          RoleName: Match.absent(),
          AssumeRolePolicyDocument: Match.objectLike({
            Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })],
          }),
          ManagedPolicyArns: [
            {
              'Fn::Join': [
                '',
                Match.arrayWith([Match.stringLikeRegexp('AmazonAPIGatewayPushToCloudWatchLogs')]),
              ],
            },
          ],
        }),
        DeletionPolicy: 'Retain',
      });
      // AND it carries no design's tags, so deploying another design changes nothing in it
      expect(JSON.stringify(account.toJSON())).not.toContain('blueprint:design');
    });

    test('the serving stack, whose stages log, deploys after it', () => {
      expect(app.byRole.Serving.dependencies).toContain(app.byRole.Account);
    });
  },
);
