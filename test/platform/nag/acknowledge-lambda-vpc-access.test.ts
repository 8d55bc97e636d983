import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  acknowledgeLambdaVpcAccess,
  LAMBDA_VPC_ACCESS_FINDING,
} from '../../../lib/platform/nag/acknowledge-lambda-vpc-access';
import { compareFindings } from './nag-findings';
import { inlineFunction } from './small-resources';

describe('acknowledgeLambdaVpcAccess', () => {
  test("silences exactly IAM4's finding for AWSLambdaVPCAccessExecutionRole on a VPC function's role", () => {
    // GIVEN a function in isolated subnets, whose role aws-cdk-lib gives the VPC access policy
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', {
        maxAzs: 1,
        subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      });
      const fn = inlineFunction(stack, 'Fn', {
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      });
      // WHEN the role is acknowledged, or not
      if (acknowledge) acknowledgeLambdaVpcAccess(fn.role!);
    });
    // THEN only the VPC access policy's finding goes; the basic execution policy's stays
    const finding = `${LAMBDA_VPC_ACCESS_FINDING} @ Small/Fn/ServiceRole/Resource`;
    expect(without).toContain(finding);
    expect(silenced).toEqual([finding]);
    expect(added).toEqual([]);
    expect(without.some((f) => f.includes('AWSLambdaBasicExecutionRole'))).toBe(true);
  });
});
