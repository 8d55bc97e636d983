import { describeLogicalIds } from '../../../app/logical-ids';

/**
 * A stateful resource whose logical ID changes is replaced on the next deploy: the VPC with
 * everything in it, the key and buckets with their data, the endpoint, the cache with its contents,
 * the model registry, the log groups with their history. Renaming a construct on their path must be
 * a deliberate act that updates this table.
 */
describeLogicalIds('artist-recommender', {
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
      // The event lake: its tables' data and its Glue database (the tables are created by the ETL).
      LakeStoreBucketDA3319ED: 'AWS::S3::Bucket',
      LakeStoreAccessLogsEF66A407: 'AWS::S3::Bucket',
      LakeDatabase161E1CC7: 'AWS::Glue::Database',
      IngestionDeliveryStream188F4AE8: 'AWS::KinesisFirehose::DeliveryStream',
      IngestionDeliveryLogsA50CF96F: 'AWS::Logs::LogGroup',
      AccountsCluster77B42041: 'AWS::RDS::DBCluster',
      AccountsPostgresqlLogs0E88C3D2: 'AWS::Logs::LogGroup',
      AccountsBootstrapLogsB6A6FD87: 'AWS::Logs::LogGroup',
      AccountsBootstrapProviderLogs87F9D7C4: 'AWS::Logs::LogGroup',
      UserFeaturesA5B5F001: 'AWS::SageMaker::FeatureGroup',
    },
    Etl: {
      MigrateLogsBDEC375F: 'AWS::Logs::LogGroup',
      TransformLogs6C6200D4: 'AWS::Logs::LogGroup',
      FeaturesLogsD7666F04: 'AWS::Logs::LogGroup',
      SnapshotLogsC6EC8E68: 'AWS::Logs::LogGroup',
      AccountsImportLogsA5B3209E: 'AWS::Logs::LogGroup',
      FeatureStoreIngestLogs9FE8CB14: 'AWS::Logs::LogGroup',
      EtlLogs9F11DD89: 'AWS::Logs::LogGroup',
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
      // The cached-ranking pattern's cache and functions, under the `Ranking` construct.
      RankingCache7BDE1917: 'AWS::ElastiCache::ServerlessCache',
      RankingServingHandlerLogsB72BAF4B: 'AWS::Logs::LogGroup',
      RankingLoaderLogs334D02B0: 'AWS::Logs::LogGroup',
      // What was served and the feedback on it; the flag validator's logs.
      FeedbackLoopFeedbackLogsE3E7A48A: 'AWS::Logs::LogGroup',
      FeedbackLoopServedListsDeliveryLogs70DBBD4C: 'AWS::Logs::LogGroup',
      FeedbackLoopServedListsDeliveryStreamFCEDD4F1: 'AWS::KinesisFirehose::DeliveryStream',
      FlagsValidatorLogs2A2BB065: 'AWS::Logs::LogGroup',
    },
    Pipeline: {
      TrainingModelPackageGroup2A1BF969: 'AWS::SageMaker::ModelPackageGroup',
      TrainingLogsE5993150: 'AWS::Logs::LogGroup',
      EvaluationGateLogs99B1F8AA: 'AWS::Logs::LogGroup',
      InvokeAtDeployHandlerLogs0F4D25D9: 'AWS::Logs::LogGroup',
      InvokeAtDeployProviderLogs7D0F3DCA: 'AWS::Logs::LogGroup',
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
