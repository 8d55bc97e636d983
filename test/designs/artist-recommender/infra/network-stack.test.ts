import { Match } from 'aws-cdk-lib/assertions';
import { recommenderApp } from './app';

describe('NetworkStack', () => {
  const { network } = recommenderApp('sandbox');

  test('spans two AZs with isolated subnets only and no NAT gateway or internet gateway', () => {
    network.resourceCountIs('AWS::EC2::Subnet', 2);
    network.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    network.resourceCountIs('AWS::EC2::NatGateway', 0);
    network.resourceCountIs('AWS::EC2::InternetGateway', 0);
  });

  test('reaches S3 through a free gateway endpoint', () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
  });

  test('reaches the SageMaker runtime privately, from one AZ in the sandbox', () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      ServiceName: Match.objectLike({
        'Fn::Join': Match.arrayWith([Match.arrayWith(['.sagemaker.runtime'])]),
      }),
      SubnetIds: [Match.anyValue()],
    });
  });

  test('has no Secrets Manager endpoint: database clients sign IAM tokens and read no secret', () => {
    // GIVEN the sandbox network WHEN its interface endpoints are listed
    const services = Object.values(
      network.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
    ).map((endpoint) => JSON.stringify(endpoint.Properties.ServiceName));
    // THEN the SageMaker runtime's and AppConfig's data plane (the serving function's flags) are the
    // only ones billed per hour
    expect(services.sort()).toEqual([
      expect.stringContaining('.appconfigdata'),
      expect.stringContaining('.sagemaker.runtime'),
    ]);
  });

  test("reaches AppConfig's data plane privately, from one AZ in the sandbox: the serving function reads its flags", () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.appconfigdata'])]) }),
      SubnetIds: [Match.anyValue()],
    });
  });

  test('the endpoint admits HTTPS from inside the VPC only', () => {
    network.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('SageMakerRuntime'),
      SecurityGroupIngress: [
        Match.objectLike({
          FromPort: 443,
          ToPort: 443,
          CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] },
        }),
      ],
    });
  });

  test('logs rejected traffic with the profile retention, deleted with the sandbox', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
    network.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 7 },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('NetworkStack in production', () => {
  const { network } = recommenderApp('production');

  test('reaches Secrets Manager privately for the credential rotation function only', () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.secretsmanager'])]) }),
    });
  });

  test('places interface endpoints in every AZ and keeps its logs', () => {
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      SubnetIds: [Match.anyValue(), Match.anyValue()],
    });
    network.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });
});
