import { App, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  IMPRESSIONS_METRIC,
  ServedListRecording,
  VARIANT_DIMENSION,
} from '../../../../lib/platform/constructs/data/served-list-recording';
import {
  SERVED_LIST_COUNT_FIELD,
  SERVED_LIST_EVENT_TYPE,
  SERVED_LIST_VARIANT_FIELD,
} from '../../../../lib/platform/constructs/data/served-list-line';

/** GIVEN a serving function's log group and a raw bucket with its key, WHEN the lines are recorded. */
function recording() {
  const app = new App();
  const stack = new Stack(app, 'Serving', { env: { account: '111111111111', region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Raw');
  const key = new kms.Key(stack, 'Key');
  const logGroup = new logs.LogGroup(stack, 'FunctionLogs');
  const construct = new ServedListRecording(stack, 'ServedLists', {
    logGroup,
    bucket,
    key,
    bufferingInterval: Duration.seconds(60),
    bufferingSize: Size.mebibytes(1),
    metricsNamespace: 'FeedRanking',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { construct, stack, template: Template.fromStack(stack) };
}

const PATTERN = `{ ($.event_type = "${SERVED_LIST_EVENT_TYPE}") && ($.${SERVED_LIST_COUNT_FIELD} >= 1) }`;

describe('ServedListRecording', () => {
  const { construct, stack, template } = recording();
  const logGroupRef = {
    Ref: stack.getLogicalId(stack.node.findChild('FunctionLogs').node.defaultChild as never),
  };

  test('subscribes the function log group, for served-list lines only, to its own delivery stream', () => {
    expect(PATTERN).toBe('{ ($.event_type = "recommendation") && ($.item_count >= 1) }');
    template.resourceCountIs('AWS::Logs::SubscriptionFilter', 1);
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: logGroupRef,
      FilterPattern: PATTERN,
      DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServedListsDeliveryStream'), 'Arn'] },
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServedListsSubscription'), 'Arn'] },
    });
    // CloudWatch Logs' role may put records to that stream and nothing else.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServedListsDeliveryStream'), 'Arn'] },
          },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^ServedListsSubscription') }],
    });
  });

  test('unzips the log data, keeps each message, ends it with a newline, into raw/ by the hour, gzipped', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'raw/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/',
        ErrorOutputPrefix:
          'firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/',
        CompressionFormat: 'GZIP',
        FileExtension: '.jsonl.gz',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 1 },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: 'Decompression',
              Parameters: [{ ParameterName: 'CompressionFormat', ParameterValue: 'GZIP' }],
            },
            {
              Type: 'CloudWatchLogProcessing',
              Parameters: [{ ParameterName: 'DataMessageExtraction', ParameterValue: 'true' }],
            },
            { Type: 'AppendDelimiterToRecord', Parameters: [] },
          ],
        },
      }),
    });
  });

  test('counts the items shown per variant, from the same lines, in the given namespace', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: logGroupRef,
      FilterPattern: PATTERN,
      MetricTransformations: [
        {
          MetricNamespace: 'FeedRanking',
          MetricName: 'Impressions',
          MetricValue: `$.${SERVED_LIST_COUNT_FIELD}`,
          Dimensions: [{ Key: 'Variant', Value: `$.${SERVED_LIST_VARIANT_FIELD}` }],
          Unit: 'Count',
        },
      ],
    });
  });

  test('exposes that metric per variant, named as the filter writes it', () => {
    const metric = construct.metricImpressions('challenger', { period: Duration.minutes(1) });
    expect(metric.namespace).toBe('FeedRanking');
    expect(metric.metricName).toBe(IMPRESSIONS_METRIC);
    expect(metric.dimensions).toEqual({ [VARIANT_DIMENSION]: 'challenger' });
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toMinutes()).toBe(1);
  });

  test('logs delivery failures to a log group of its own, with the removal policy asked for', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 7 },
      DeletionPolicy: 'Delete',
    });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
      }),
    });
  });
});
