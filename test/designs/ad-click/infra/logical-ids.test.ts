import { describeLogicalIds } from '../../../app/logical-ids';

/**
 * A stateful resource whose logical ID changes is replaced on the next deploy: the VPC with
 * everything in it, the key and buckets with their data, the feature groups with their records, the
 * endpoint, the model registry, the log groups with their history. Renaming a construct on their
 * path must be a deliberate act that updates this table.
 */
describeLogicalIds('ad-click', {
  pinned: {
    Network: {
      NetworkVpc7FB7348F: 'AWS::EC2::VPC',
      NetworkFlowLogs2BEC3212: 'AWS::Logs::LogGroup',
      CustomVpcRestrictDefaultSGCustomResourceProviderHandlerLogs927D5DF3: 'AWS::Logs::LogGroup',
    },
    Data: {
      Key961B73FD: 'AWS::KMS::Key',
      ArtifactsBucket88671897: 'AWS::S3::Bucket',
      ArtifactsAccessLogs4D97777C: 'AWS::S3::Bucket',
      RawEventsBucket2D8F57FA: 'AWS::S3::Bucket',
      RawEventsAccessLogsB1E84735: 'AWS::S3::Bucket',
      IngestionDeliveryStream188F4AE8: 'AWS::KinesisFirehose::DeliveryStream',
      IngestionDeliveryLogsA50CF96F: 'AWS::Logs::LogGroup',
      UserFeaturesA5B5F001: 'AWS::SageMaker::FeatureGroup',
      SegmentCtr7D63780E: 'AWS::SageMaker::FeatureGroup',
    },
    Ml: {
      Endpoint8024A810: 'AWS::SageMaker::Endpoint',
      EndpointLogs88A66289: 'AWS::Logs::LogGroup',
      StageBootstrapModelLogsF4BEE627: 'AWS::Logs::LogGroup',
    },
    Serving: {
      ApiAccessLogs50B185DB: 'AWS::Logs::LogGroup',
      ApiCD79AAA0: 'AWS::ApiGateway::RestApi',
      ApiExecutionLogsB326CF6B: 'AWS::Logs::LogGroup',
      EventsLogsF2CB289A: 'AWS::Logs::LogGroup',
      // The real-time scoring pattern's function.
      ScoringHandlerLogs88EF9952: 'AWS::Logs::LogGroup',
      // The flag validator's logs.
      FlagsValidatorLogs2A2BB065: 'AWS::Logs::LogGroup',
    },
    Pipeline: {
      TrainingModelPackageGroup2A1BF969: 'AWS::SageMaker::ModelPackageGroup',
      TrainingLogsE5993150: 'AWS::Logs::LogGroup',
      EvaluationGateLogs99B1F8AA: 'AWS::Logs::LogGroup',
    },
  },
  sandboxOnly: {
    Data: {
      // The function that empties the buckets before they are deleted.
      CustomS3AutoDeleteObjectsCustomResourceProviderHandlerLogs5E5D1456: 'AWS::Logs::LogGroup',
    },
    Ml: {
      RunCleanupHandlerLogs5FEF761B: 'AWS::Logs::LogGroup',
      RunCleanupProviderLogs5C2FF24F: 'AWS::Logs::LogGroup',
    },
  },
});
