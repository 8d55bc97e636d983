import { DeploymentGuardrails } from '../../lib/platform/rules/deployment-guardrails';
import { findings, messages, stack, stateMachine } from './fixtures';

const variant = (name: string, count = 2, extra: object = {}) => ({
  VariantName: name,
  ModelName: { 'Fn::GetAtt': ['Model', 'ModelName'] },
  InstanceType: 'ml.m5.large',
  InitialInstanceCount: count,
  ...extra,
});
const alarmOn = (endpointName: unknown) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Dimensions: [
      { Name: 'EndpointName', Value: endpointName },
      { Name: 'VariantName', Value: 'a' },
    ],
  },
});
const canary = (size: object, alarms: string[]) => ({
  BlueGreenUpdatePolicy: {
    TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: size, WaitIntervalInSeconds: 300 },
  },
  AutoRollbackConfiguration: { Alarms: alarms.map((a) => ({ AlarmName: { Ref: a } })) },
});

/** An endpoint deployed with guardrails, its alarms, its model and the model's execution role. */
function ml(options: {
  deployment: object;
  variants?: object[];
  alarmEndpoint?: unknown;
  describeAlarms?: boolean;
}) {
  return stack(
    'ml',
    {
      ModelRole: { Type: 'AWS::IAM::Role', Properties: {} },
      ModelRolePolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'ModelRole' }],
          PolicyDocument: {
            Statement: options.describeAlarms
              ? [
                  {
                    Effect: 'Allow',
                    Action: 'cloudwatch:DescribeAlarms',
                    Resource: { 'Fn::GetAtt': ['Errors', 'Arn'] },
                  },
                ]
              : [],
          },
        },
      },
      Model: {
        Type: 'AWS::SageMaker::Model',
        Properties: { ExecutionRoleArn: { 'Fn::GetAtt': ['ModelRole', 'Arn'] } },
      },
      Config: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: { ProductionVariants: options.variants ?? [variant('a')] },
      },
      Errors: alarmOn(options.alarmEndpoint ?? { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] }),
      Endpoint: {
        Type: 'AWS::SageMaker::Endpoint',
        Properties: {
          EndpointConfigName: { 'Fn::GetAtt': ['Config', 'EndpointConfigName'] },
          DeploymentConfig: options.deployment,
        },
      },
    },
    {
      EndpointName: { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] },
      ErrorsName: { Ref: 'Errors' },
      ModelRoleArn: { 'Fn::GetAtt': ['ModelRole', 'Arn'] },
    },
  );
}

const out = (name: string) => ({ 'Fn::GetStackOutput': { StackName: 'ml', OutputName: name } });
const SDK = 'arn:aws:states:::aws-sdk:sagemaker:';

describe('deployment-guardrails', () => {
  test('compliant: a one-instance canary on two instances, rolled back by an alarm on the endpoint the model role can read', () => {
    const app = ml({
      deployment: canary({ Type: 'INSTANCE_COUNT', Value: 1 }, ['Errors']),
      describeAlarms: true,
    });
    expect(findings(DeploymentGuardrails, app)).toEqual([]);
  });

  test('non-compliant: alarm on another endpoint, no DescribeAlarms for the execution role, canary of half the fleet exceeded', () => {
    const app = ml({
      deployment: canary({ Type: 'INSTANCE_COUNT', Value: 2 }, ['Errors']),
      alarmEndpoint: 'ml-Endpoint-74CA3A1A',
    });
    expect(messages(DeploymentGuardrails, app).map((m) => m.replace(/^Endpoint Endpoint: /, ''))).toEqual([
      "CanarySize of 2 instance(s) is outside 0-50% of variant a's 2 instances",
      'rollback alarms Errors do not watch endpoint Endpoint (no AWS/SageMaker EndpointName dimension names it), so they cannot roll the deployment back',
      'execution role ModelRole (ml) may not cloudwatch:DescribeAlarms on the rollback alarms (Errors)',
    ]);
  });

  test('non-compliant: a canary without alarms, a rolling update of a serverless endpoint, a step in instances on serverless', () => {
    const serverless = [
      variant('a', 1, {
        InstanceType: undefined,
        InitialInstanceCount: undefined,
        ServerlessConfig: { MaxConcurrency: 1, MemorySizeInMB: 1024 },
      }),
    ];
    const noAlarms = ml({
      deployment: canary({ Type: 'CAPACITY_PERCENT', Value: 60 }, []),
      describeAlarms: true,
    });
    expect(findings(DeploymentGuardrails, noAlarms)).toEqual([
      'Endpoint @ Properties/DeploymentConfig/AutoRollbackConfiguration',
      'Endpoint @ Properties/DeploymentConfig/CanarySize',
    ]);
    const rolling = ml({
      deployment: {
        RollingUpdatePolicy: {
          MaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 50 },
          WaitIntervalInSeconds: 60,
        },
      },
      variants: serverless,
    });
    expect(messages(DeploymentGuardrails, rolling)).toEqual([
      'Endpoint Endpoint: a rolling deployment on a serverless endpoint is not supported',
    ]);
    const stepInInstances = ml({
      deployment: canary({ Type: 'INSTANCE_COUNT', Value: 1 }, ['Errors']),
      variants: serverless,
      describeAlarms: true,
    });
    expect(findings(DeploymentGuardrails, stepInInstances)).toEqual([
      'Endpoint @ Properties/DeploymentConfig/CanarySize',
    ]);
  });

  test('a state machine update: new variant names, unknown alarms and the role of its own CreateModel', () => {
    const app = ml({
      deployment: canary({ Type: 'INSTANCE_COUNT', Value: 1 }, ['Errors']),
      describeAlarms: true,
    });
    const pipeline = stack('pipeline', {
      Machine: stateMachine({
        StartAt: 'CreateModel',
        States: {
          CreateModel: {
            Type: 'Task',
            Resource: `${SDK}createModel`,
            Parameters: { 'ModelName.$': '$.n', ExecutionRoleArn: out('ModelRoleArn') },
            Next: 'CreateConfig',
          },
          CreateConfig: {
            Type: 'Task',
            Resource: `${SDK}createEndpointConfig`,
            Parameters: {
              'EndpointConfigName.$': '$.n',
              ProductionVariants: [{ VariantName: 'renamed', 'ModelName.$': '$.n', InitialInstanceCount: 2 }],
            },
            Next: 'Update',
          },
          Update: {
            Type: 'Task',
            Resource: `${SDK}updateEndpoint`,
            Parameters: {
              EndpointName: out('EndpointName'),
              'EndpointConfigName.$': '$.n',
              DeploymentConfig: {
                BlueGreenUpdatePolicy: {
                  TrafficRoutingConfiguration: {
                    Type: 'CANARY',
                    CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 },
                  },
                },
                AutoRollbackConfiguration: {
                  Alarms: [{ AlarmName: out('ErrorsName') }, { AlarmName: 'typo' }],
                },
              },
            },
            End: true,
          },
        },
      }),
    });
    expect(messages(DeploymentGuardrails, app, pipeline)).toEqual([
      "task Update: the new config's variants (renamed) differ from the endpoint's (a)",
      'task Update: rollback alarm "typo" is not an alarm of the app',
    ]);
  });
});
