import { AlarmDimensionsNameResources } from '../../lib/platform/rules/alarm-dimensions-name-resources';
import { findings, stack } from './fixtures';

const alarm = (namespace: string, dimensions: Array<[string, unknown]>) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    Namespace: namespace,
    MetricName: 'M',
    Dimensions: dimensions.map(([Name, Value]) => ({ Name, Value })),
  },
});
const endpointResources = {
  Endpoint: {
    Type: 'AWS::SageMaker::Endpoint',
    Properties: { EndpointConfigName: { 'Fn::GetAtt': ['Config', 'EndpointConfigName'] } },
  },
  Named: {
    Type: 'AWS::SageMaker::Endpoint',
    Properties: {
      EndpointName: 'recs',
      EndpointConfigName: { 'Fn::GetAtt': ['Config', 'EndpointConfigName'] },
    },
  },
  Config: {
    Type: 'AWS::SageMaker::EndpointConfig',
    Properties: { ProductionVariants: [{ VariantName: 'champion' }, { VariantName: 'challenger' }] },
  },
  Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
  Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'recs-api' } },
};

describe('alarm-dimensions-name-resources', () => {
  test('compliant: references, explicit names, cross-stack outputs and metric math', () => {
    const ml = stack('ml', endpointResources, {
      EndpointName: { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] },
      Fn: { Ref: 'Fn' },
    });
    const ops = stack('ops', {
      ByRef: alarm('AWS/SageMaker', [
        ['EndpointName', { 'Fn::GetStackOutput': { StackName: 'ml', OutputName: 'EndpointName' } }],
        ['VariantName', 'challenger'],
      ]),
      ByName: alarm('AWS/SageMaker', [['EndpointName', 'recs']]),
      Math: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          Metrics: [
            { Id: 'e', Expression: 'm1 * 2' },
            {
              Id: 'm1',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/Lambda',
                  Dimensions: [
                    {
                      Name: 'FunctionName',
                      Value: { 'Fn::GetStackOutput': { StackName: 'ml', OutputName: 'Fn' } },
                    },
                  ],
                },
              },
            },
          ],
        },
      },
      Api: alarm('AWS/ApiGateway', [
        ['ApiName', 'recs-api'],
        ['Stage', 'live'],
      ]),
      Custom: alarm('Recommender', [['EndpointName', 'anything']]),
    });
    expect(findings(AlarmDimensionsNameResources, ml, ops)).toEqual([]);
  });

  test('non-compliant: a guessed endpoint name, an unknown variant, a function and an API that do not exist', () => {
    const ml = stack('ml', {
      ...endpointResources,
      Guessed: alarm('AWS/SageMaker', [
        ['EndpointName', 'ml-Endpoint-74CA3A1A'],
        ['VariantName', 'champion'],
      ]),
      WrongVariant: alarm('AWS/SageMaker', [
        ['EndpointName', { 'Fn::GetAtt': ['Endpoint', 'EndpointName'] }],
        ['VariantName', 'canary'],
      ]),
      NoFunction: alarm('AWS/Lambda', [['FunctionName', 'handler']]),
      NoApi: alarm('AWS/ApiGateway', [['ApiName', { Ref: 'Api' }]]),
    });
    expect(findings(AlarmDimensionsNameResources, ml)).toEqual([
      'Guessed @ Properties/Dimensions/0',
      'NoApi @ Properties/Dimensions/0',
      'NoFunction @ Properties/Dimensions/0',
      'WrongVariant @ Properties/Dimensions/1',
    ]);
  });
});
