import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ANY_RESOURCE_FINDING } from '../../../lib/platform/nag/acknowledge-actions-without-resource-types';
import { acknowledgeXrayWrites } from '../../../lib/platform/nag/acknowledge-xray-writes';
import { compareFindings } from './nag-findings';
import { inlineFunction } from './small-resources';

describe('acknowledgeXrayWrites', () => {
  test("silences exactly IAM5[Resource::*] for a traced function's X-Ray writes", () => {
    // GIVEN a function with active tracing, which aws-cdk-lib grants the X-Ray writes on *
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const fn = inlineFunction(stack, 'Fn', { tracing: lambda.Tracing.ACTIVE });
      if (acknowledge) acknowledgeXrayWrites(fn.role!);
    });
    const finding = `${ANY_RESOURCE_FINDING} @ Small/Fn/ServiceRole/DefaultPolicy/Resource`;
    expect(without).toContain(finding);
    expect(silenced).toEqual([finding]);
    expect(added).toEqual([]);
  });

  test("covers a traced state machine's X-Ray actions, sampling reads included", () => {
    const { without, silenced } = compareFindings((stack, acknowledge) => {
      const machine = new sfn.StateMachine(stack, 'Machine', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Step')),
        tracingEnabled: true,
      });
      if (acknowledge) acknowledgeXrayWrites(machine.role);
    });
    const finding = `${ANY_RESOURCE_FINDING} @ Small/Machine/Role/DefaultPolicy/Resource`;
    expect(without).toContain(finding);
    expect(silenced).toEqual([finding]);
  });

  test('leaves the finding where the same policy allows anything else on *', () => {
    // GIVEN a traced function that may also list every bucket
    const { without, silenced } = compareFindings((stack, acknowledge) => {
      const fn = inlineFunction(stack, 'Fn', { tracing: lambda.Tracing.ACTIVE });
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }));
      if (acknowledge) acknowledgeXrayWrites(fn.role!);
    });
    expect(without).toContain(`${ANY_RESOURCE_FINDING} @ Small/Fn/ServiceRole/DefaultPolicy/Resource`);
    expect(silenced).toEqual([]);
  });
});
