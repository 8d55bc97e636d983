import { RetainedResourceFixedName } from '../../lib/platform/rules/retained-resource-fixed-name';
import { findings, stack } from './fixtures';

const UNIQUE_SUFFIX = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };

describe('retained-resource-fixed-name', () => {
  test('compliant: generated names, names from the stack id or from a recreated resource, Snapshot, Delete', () => {
    const data = stack('data', {
      Generated: {
        Type: 'AWS::S3::Bucket',
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {},
      },
      FromStackId: {
        Type: 'AWS::SageMaker::FeatureGroup',
        DeletionPolicy: 'Retain',
        Properties: { FeatureGroupName: { 'Fn::Join': ['-', ['users', UNIQUE_SUFFIX]] } },
      },
      Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'api' } },
      ApiLogs: {
        Type: 'AWS::Logs::LogGroup',
        DeletionPolicy: 'Retain',
        Properties: {
          LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: 'Api' }, '/live']] },
        },
      },
      Cluster: {
        Type: 'AWS::RDS::DBCluster',
        DeletionPolicy: 'Snapshot',
        Properties: { DBClusterIdentifier: 'accounts' },
      },
      Deleted: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Delete', Properties: { BucketName: 'fixed' } },
    });
    expect(findings(RetainedResourceFixedName, data)).toEqual([]);
  });

  test('non-compliant: retained on delete or on replacement under a literal or stack-name-derived name', () => {
    const data = stack('data', {
      Features: {
        Type: 'AWS::SageMaker::FeatureGroup',
        DeletionPolicy: 'Retain',
        Properties: { FeatureGroupName: 'users-0ede8a69' },
      },
      Packages: {
        Type: 'AWS::SageMaker::ModelPackageGroup',
        DeletionPolicy: 'RetainExceptOnCreate',
        Properties: { ModelPackageGroupName: { 'Fn::Sub': '${AWS::StackName}-models' } },
      },
      Bucket: {
        Type: 'AWS::S3::Bucket',
        UpdateReplacePolicy: 'Retain',
        Properties: { BucketName: 'artefacts' },
      },
    });
    expect(findings(RetainedResourceFixedName, data)).toEqual([
      'Bucket @ Properties/BucketName',
      'Features @ Properties/FeatureGroupName',
      'Packages @ Properties/ModelPackageGroupName',
    ]);
  });
});
