import { CustomResourceProviderBase } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import * as cr from 'aws-cdk-lib/custom-resources';

/**
 * The resource types a diagram shows, each as a node of its own, with what they are in words.
 * Every other resource (roles, policies, log groups, alarms, security groups, subnets, scaling
 * targets, API methods...) belongs to the node of the construct that made it.
 */
export const NODE_TYPES: Readonly<Record<string, string>> = {
  'AWS::ApiGateway::Account': 'API Gateway account settings',
  'AWS::ApiGateway::RestApi': 'API Gateway REST API',
  'AWS::AppConfig::Application': 'AppConfig feature flags',
  'AWS::CloudWatch::Dashboard': 'CloudWatch dashboard',
  'AWS::DynamoDB::Table': 'DynamoDB table',
  'AWS::EC2::VPC': 'VPC',
  'AWS::EC2::VPCEndpoint': 'VPC endpoint',
  'AWS::ElastiCache::ServerlessCache': 'ElastiCache Serverless',
  'AWS::Events::Rule': 'EventBridge rule',
  'AWS::Kinesis::Stream': 'Kinesis stream',
  'AWS::KinesisFirehose::DeliveryStream': 'Firehose stream',
  'AWS::KMS::Key': 'KMS key',
  'AWS::Lambda::Function': 'Lambda function',
  'AWS::RDS::DBCluster': 'Aurora cluster',
  'AWS::S3::Bucket': 'S3 bucket',
  'AWS::SageMaker::Endpoint': 'SageMaker endpoint',
  'AWS::SageMaker::FeatureGroup': 'Feature Store group',
  'AWS::SageMaker::ModelPackageGroup': 'Model Registry group',
  'AWS::SageMaker::MonitoringSchedule': 'Model Monitor schedule',
  'AWS::SNS::Topic': 'SNS topic',
  'AWS::SQS::Queue': 'SQS queue',
  'AWS::StepFunctions::StateMachine': 'Step Functions state machine',
};

/** CDK's singletons (AwsCustomResource's function, log retention, bucket notifications) end in a UUID. */
const SINGLETON_ID = /[0-9a-f]{32}$/;

/**
 * Constructs that are CDK's machinery rather than the design's: custom resource providers, the
 * singleton functions behind AwsCustomResource and log retention, CDK metadata. Nothing under them
 * is drawn, and no connection to them.
 */
export function isMachinery(construct: IConstruct): boolean {
  return (
    construct instanceof cr.Provider ||
    construct instanceof CustomResourceProviderBase ||
    construct.node.id === 'CDKMetadata' ||
    SINGLETON_ID.test(construct.node.id)
  );
}
