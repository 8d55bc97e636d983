import { SdkIntegrationParameterCase } from '../../lib/platform/rules/sdk-integration-parameter-case';
import { findings, messages, stack, stateMachine, tasks } from './fixtures';

describe('sdk-integration-parameter-case', () => {
  test('compliant: PascalCase members; free-form maps and optimized integrations keep their own keys', () => {
    const pipeline = stack('p', {
      Machine: stateMachine(
        tasks({
          CreateModel: [
            'arn:aws:states:::aws-sdk:sagemaker:createModel',
            {
              ModelName: 'm',
              PrimaryContainer: { Environment: { sagemaker_program: 'x' } },
              'ExecutionRoleArn.$': '$.r',
            },
          ],
          Train: [
            'arn:aws:states:::sagemaker:createTrainingJob.sync',
            { HyperParameters: { k: '50' }, TrainingJobName: 'j' },
          ],
          Invoke: ['arn:aws:states:::lambda:invoke', { FunctionName: 'f', Payload: { bucket: 'b' } }],
        }),
      ),
    });
    expect(findings(SdkIntegrationParameterCase, pipeline)).toEqual([]);
  });

  test('non-compliant: camelCase members of a nested structure, each reported once', () => {
    const pipeline = stack('p', {
      Machine: stateMachine(
        tasks({
          Update: [
            'arn:aws:states:::aws-sdk:sagemaker:updateEndpoint',
            {
              EndpointName: 'e',
              DeploymentConfig: {
                blueGreenUpdatePolicy: { trafficRoutingConfiguration: { type: 'CANARY' } },
                AutoRollbackConfiguration: { Alarms: [{ 'alarmName.$': '$.a' }] },
              },
            },
          ],
        }),
      ),
    });
    expect(findings(SdkIntegrationParameterCase, pipeline)).toEqual([
      'Machine @ States/Update/Parameters/DeploymentConfig/blueGreenUpdatePolicy',
    ]);
    expect(messages(SdkIntegrationParameterCase, pipeline)[0]).toContain(
      'DeploymentConfig/blueGreenUpdatePolicy, DeploymentConfig/AutoRollbackConfiguration/Alarms/0/alarmName',
    );
  });
});
