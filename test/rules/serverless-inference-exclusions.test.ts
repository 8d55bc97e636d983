import { ServerlessInferenceExclusions } from '../../lib/platform/rules/serverless-inference-exclusions';
import { findings, stack, stateMachine, tasks } from './fixtures';

const model = (props: object = {}) => ({
  Type: 'AWS::SageMaker::Model',
  Properties: { ExecutionRoleArn: 'arn:aws:iam::1:role/r', PrimaryContainer: { Image: 'img' }, ...props },
});
const serverlessVariant = (name: string, modelId = 'Model') => ({
  VariantName: name,
  ModelName: { 'Fn::GetAtt': [modelId, 'ModelName'] },
  ServerlessConfig: { MaxConcurrency: 5, MemorySizeInMB: 2048 },
});
const SDK = 'arn:aws:states:::aws-sdk:sagemaker:';

describe('serverless-inference-exclusions', () => {
  test('compliant: one serverless variant, no key, no capture, a model without isolation or VPC', () => {
    // GIVEN a serverless endpoint config in a template and one created by a state machine
    const ml = stack('ml', {
      Model: model(),
      Config: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: { ProductionVariants: [serverlessVariant('a')] },
      },
      // an instance-based config may use every feature
      Isolated: model({ EnableNetworkIsolation: true, VpcConfig: { Subnets: ['s'] } }),
      Instances: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: {
          KmsKeyId: 'k',
          ProductionVariants: [
            {
              VariantName: 'a',
              ModelName: { 'Fn::GetAtt': ['Isolated', 'ModelName'] },
              InstanceType: 'ml.m5.large',
            },
            {
              VariantName: 'b',
              ModelName: { 'Fn::GetAtt': ['Isolated', 'ModelName'] },
              InstanceType: 'ml.m5.large',
            },
          ],
        },
      },
      Machine: stateMachine(
        tasks({
          CreateModel: [
            `${SDK}createModel`,
            { 'ModelName.$': '$.name', 'EnableNetworkIsolation.$': '$.isolate' },
          ],
          CreateConfig: [
            `${SDK}createEndpointConfig`,
            {
              ProductionVariants: [
                {
                  VariantName: 'a',
                  'ModelName.$': '$.name',
                  ServerlessConfig: { MaxConcurrency: 1, MemorySizeInMB: 1024 },
                },
              ],
            },
          ],
        }),
      ),
    });
    // WHEN the rule runs THEN nothing is found (a JSONPath isolation flag is unknown, not a finding)
    expect(findings(ServerlessInferenceExclusions, ml)).toEqual([]);
  });

  test('non-compliant: key, capture, two variants, and isolated or VPC models, in templates and state machines', () => {
    const ml = stack('ml', {
      Model: model({ EnableNetworkIsolation: true, VpcConfig: { Subnets: ['s'], SecurityGroupIds: ['g'] } }),
      Config: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: {
          KmsKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] },
          DataCaptureConfig: { EnableCapture: true, InitialSamplingPercentage: 100 },
          ProductionVariants: [serverlessVariant('a'), serverlessVariant('b')],
        },
      },
      Key: { Type: 'AWS::KMS::Key' },
      Machine: stateMachine(
        tasks({
          CreateModel: [`${SDK}createModel`, { 'ModelName.$': '$.name', EnableNetworkIsolation: true }],
          CreateConfig: [
            `${SDK}createEndpointConfig`,
            {
              'KmsKeyId.$': '$.key',
              ProductionVariants: [
                {
                  VariantName: 'a',
                  'ModelName.$': '$.name',
                  ServerlessConfig: { MaxConcurrency: 1, MemorySizeInMB: 1024 },
                },
              ],
            },
          ],
        }),
      ),
    });
    expect(findings(ServerlessInferenceExclusions, ml)).toEqual([
      'Config @ Properties/DataCaptureConfig',
      'Config @ Properties/KmsKeyId',
      'Config @ Properties/ProductionVariants',
      'Machine @ States/CreateConfig/Parameters/KmsKeyId',
      'Machine @ States/CreateModel/Parameters/EnableNetworkIsolation',
      'Model @ Properties/EnableNetworkIsolation',
      'Model @ Properties/VpcConfig',
    ]);
  });
});

describe('serverless-inference-exclusions: where the model comes from', () => {
  const config = {
    Type: 'AWS::SageMaker::EndpointConfig',
    Properties: { ProductionVariants: [serverlessVariant('a')] },
  };

  test('compliant: a serverless model names its archive with ModelDataUrl', () => {
    const ml = stack('ml', {
      Model: model({ PrimaryContainer: { Image: 'img', ModelDataUrl: 's3://b/models/m/model.tar.gz' } }),
      Config: config,
    });
    expect(findings(ServerlessInferenceExclusions, ml)).toEqual([]);
  });

  test('non-compliant: a serverless model takes ModelDataSource, which serverless endpoints refuse', () => {
    const ml = stack('ml', {
      Model: model({
        PrimaryContainer: {
          Image: 'img',
          ModelDataSource: {
            S3DataSource: { S3Uri: 's3://b/k.gz', S3DataType: 'S3Object', CompressionType: 'Gzip' },
          },
        },
      }),
      Config: config,
    });
    expect(findings(ServerlessInferenceExclusions, ml).map((f) => f.split(':')[0])).toEqual([
      'Model @ Properties/PrimaryContainer/ModelDataSource',
    ]);
  });
});
