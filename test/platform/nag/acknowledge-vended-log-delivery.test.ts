import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Stack } from 'aws-cdk-lib';
import { ANY_RESOURCE_FINDING } from '../../../lib/platform/nag/acknowledge-actions-without-resource-types';
import { acknowledgeVendedLogDelivery } from '../../../lib/platform/nag/acknowledge-vended-log-delivery';
import { acknowledgeXrayWrites } from '../../../lib/platform/nag/acknowledge-xray-writes';
import { compareFindings } from './nag-findings';

function loggingMachine(stack: Stack, tracingEnabled: boolean): sfn.StateMachine {
  return new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Step')),
    logs: { destination: new logs.LogGroup(stack, 'Logs'), level: sfn.LogLevel.ALL },
    tracingEnabled,
  });
}

const FINDING = `${ANY_RESOURCE_FINDING} @ Small/Machine/Role/DefaultPolicy/Resource`;

describe('acknowledgeVendedLogDelivery', () => {
  test("silences exactly IAM5[Resource::*] for a logging state machine's log delivery actions", () => {
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const machine = loggingMachine(stack, false);
      if (acknowledge) acknowledgeVendedLogDelivery(machine.role);
    });
    expect(without).toContain(FINDING);
    expect(silenced).toEqual([FINDING]);
    expect(added).toEqual([]);
  });

  test('needs the X-Ray acknowledgement too where the machine is traced: the actions share one statement', () => {
    const logsOnly = compareFindings((stack, acknowledge) => {
      const machine = loggingMachine(stack, true);
      if (acknowledge) acknowledgeVendedLogDelivery(machine.role);
    });
    expect(logsOnly.silenced).toEqual([]);
    const both = compareFindings((stack, acknowledge) => {
      const machine = loggingMachine(stack, true);
      if (!acknowledge) return;
      acknowledgeVendedLogDelivery(machine.role);
      acknowledgeXrayWrites(machine.role);
    });
    expect(both.silenced).toEqual([FINDING]);
  });
});
