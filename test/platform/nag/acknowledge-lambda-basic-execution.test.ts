import { App, Stack, Validations } from 'aws-cdk-lib';
import {
  acknowledgeLambdaBasicExecution,
  LAMBDA_BASIC_EXECUTION_FINDING,
} from '../../../lib/platform/nag/acknowledge-lambda-basic-execution';
import { compareFindings } from './nag-findings';
import { inlineFunction } from './small-resources';

describe('acknowledgeLambdaBasicExecution', () => {
  test("silences exactly IAM4's finding for AWSLambdaBasicExecutionRole on the function's role", () => {
    // GIVEN a function whose role aws-cdk-lib gives the AWS managed policy
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const fn = inlineFunction(stack, 'Fn');
      // WHEN the role is acknowledged, or not
      if (acknowledge) acknowledgeLambdaBasicExecution(fn.role!);
    });
    // THEN cdk-nag reports the managed policy without it, and nothing else changes with it
    const finding = `${LAMBDA_BASIC_EXECUTION_FINDING} @ Small/Fn/ServiceRole/Resource`;
    expect(without).toContain(finding);
    expect(silenced).toEqual([finding]);
    expect(added).toEqual([]);
  });

  test('records a reason that links the policy it acknowledges', () => {
    const fn = inlineFunction(new Stack(new App(), 'Small'), 'Fn');
    acknowledgeLambdaBasicExecution(fn.role!);
    const reasons = fn
      .role!.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.values(entry.data as Record<string, string>));
    expect(reasons).toEqual([
      expect.stringContaining(
        'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html',
      ),
    ]);
  });
});
