import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  acknowledgeActionsWithoutResourceTypes,
  ANY_RESOURCE_FINDING,
} from '../../../lib/platform/nag/acknowledge-actions-without-resource-types';
import { compareFindings, nagFindings } from './nag-findings';

const ECR_LOGIN = {
  actions: ['ecr:GetAuthorizationToken'],
  purpose: 'the role pulls its image from a private ECR repository',
};

function roleWith(stack: Stack, ...actionsOnAnyResource: string[][]): iam.Role {
  const role = new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
  });
  for (const actions of actionsOnAnyResource) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: ['*'] }));
  }
  return role;
}

const FINDING = `${ANY_RESOURCE_FINDING} @ Small/Role/DefaultPolicy/Resource`;

describe('acknowledgeActionsWithoutResourceTypes', () => {
  test('silences exactly IAM5[Resource::*] on a policy that allows only accepted actions on *', () => {
    // GIVEN a role allowed ecr:GetAuthorizationToken, which has no resource type, on *
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const role = roleWith(stack, ['ecr:GetAuthorizationToken']);
      if (acknowledge) acknowledgeActionsWithoutResourceTypes(role, ECR_LOGIN);
    });
    expect(without).toEqual([FINDING]);
    expect(silenced).toEqual([FINDING]);
    expect(added).toEqual([]);
  });

  test('keeps the finding when the policy allows another action on * as well', () => {
    // GIVEN a role also allowed s3:GetObject, which does have a resource type, on *
    const app = new App();
    const role = roleWith(new Stack(app, 'Small'), ['ecr:GetAuthorizationToken'], ['s3:GetObject']);
    // WHEN only the ECR action is accepted
    acknowledgeActionsWithoutResourceTypes(role, ECR_LOGIN);
    // THEN cdk-nag still fails the policy
    expect(nagFindings(app)).toEqual([FINDING]);
  });

  test('adds up several calls on one role, matching actions without regard to case, and names them all', () => {
    const app = new App();
    const role = roleWith(new Stack(app, 'Small'), ['ecr:GetAuthorizationToken', 'cloudwatch:putMetricData']);
    acknowledgeActionsWithoutResourceTypes(role, ECR_LOGIN);
    acknowledgeActionsWithoutResourceTypes(role, {
      actions: ['cloudwatch:PutMetricData'],
      purpose: 'the container publishes its metrics under a namespace condition',
    });
    expect(nagFindings(app)).toEqual([]);
    const policy = role.node.findChild('DefaultPolicy').node.defaultChild!;
    const reasons = policy.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.values(entry.data as Record<string, string>));
    expect(reasons).toEqual([
      expect.stringMatching(
        /^cloudwatch:putMetricData, ecr:GetAuthorizationToken accept only "Resource": "\*" \(https:\/\/docs\.aws\.amazon\.com\/service-authorization\/.*\): the container publishes .*; the role pulls .*\.$/,
      ),
    ]);
  });

  test('rejects wildcards, an empty list, a missing purpose and a foreign reference, naming each', () => {
    const role = roleWith(new Stack(new App(), 'Small'));
    expect(() =>
      acknowledgeActionsWithoutResourceTypes(role, {
        actions: [],
        purpose: 'short',
        reference: 'http://example.com',
      }),
    ).toThrow(
      /actions: at least one[\s\S]*purpose: say what[\s\S]*reference: a page of https:\/\/docs\.aws\.amazon\.com\//,
    );
    expect(() =>
      acknowledgeActionsWithoutResourceTypes(role, {
        actions: ['ec2:Describe*'],
        purpose: ECR_LOGIN.purpose,
      }),
    ).toThrow(/actions: "ec2:Describe\*" is not one exact action/);
  });
});
