import { AutoscaledEndpointRetainsVariants } from '../../lib/platform/rules/autoscaled-endpoint-retains-variants';
import { findings, stack, stateMachine, tasks } from './fixtures';

const SDK = 'arn:aws:states:::aws-sdk:sagemaker:';
const out = (name: string) => ({ 'Fn::GetStackOutput': { StackName: 'ml', OutputName: name } });

function ml(endpointProps: object = {}, scaled = true) {
  return stack(
    'ml',
    {
      Config: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: {
          ProductionVariants: [
            { VariantName: 'champion', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 2 },
          ],
        },
      },
      Endpoint: {
        Type: 'AWS::SageMaker::Endpoint',
        Properties: {
          EndpointConfigName: { 'Fn::GetAtt': ['Config', 'EndpointConfigName'] },
          ...endpointProps,
        },
      },
      ...(scaled
        ? {
            Scaling: {
              Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
              Properties: {
                ServiceNamespace: 'sagemaker',
                ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
                ResourceId: {
                  'Fn::Join': [
                    '',
                    ['endpoint/', { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] }, '/variant/champion'],
                  ],
                },
                MinCapacity: 2,
                MaxCapacity: 8,
              },
            },
          }
        : {}),
    },
    { EndpointName: { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] } },
  );
}

function pipeline(update: object, instanceType = 'ml.g5.xlarge') {
  return stack('pipeline', {
    Machine: stateMachine(
      tasks({
        CreateConfig: [
          `${SDK}createEndpointConfig`,
          {
            'EndpointConfigName.$': '$.n',
            ProductionVariants: [
              { VariantName: 'champion', InstanceType: instanceType, InitialInstanceCount: 2 },
            ],
          },
        ],
        Update: [
          `${SDK}updateEndpoint`,
          { EndpointName: out('EndpointName'), 'EndpointConfigName.$': '$.n', ...update },
        ],
      }),
    ),
  });
}

describe('autoscaled-endpoint-retains-variants', () => {
  test('compliant: both the template and the pipeline retain variant properties; an unscaled endpoint needs nothing', () => {
    expect(
      findings(
        AutoscaledEndpointRetainsVariants,
        ml({ RetainAllVariantProperties: true }),
        pipeline({ RetainAllVariantProperties: true }),
      ),
    ).toEqual([]);
    expect(findings(AutoscaledEndpointRetainsVariants, ml({}, false), pipeline({}))).toEqual([]);
  });

  test('non-compliant: counts reset by the template and by the pipeline, DesiredInstanceCount overridden, instance type changed', () => {
    expect(findings(AutoscaledEndpointRetainsVariants, ml(), pipeline({}))).toEqual([
      'Endpoint @ Properties/RetainAllVariantProperties',
      'Machine @ States/Update/Parameters/RetainAllVariantProperties',
    ]);
    expect(
      findings(
        AutoscaledEndpointRetainsVariants,
        ml({ RetainAllVariantProperties: true }),
        pipeline(
          {
            RetainAllVariantProperties: true,
            ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredInstanceCount' }],
          },
          'ml.g5.2xlarge',
        ),
      ),
    ).toEqual([
      'Machine @ States/CreateConfig/Parameters',
      'Machine @ States/Update/Parameters/ExcludeRetainedVariantProperties',
    ]);
  });
});
