import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { FeedbackLoop } from '../../../../lib/designs/artist-recommender/feedback-loop';
import { FEEDBACK_REQUEST_MODEL } from '../../../../lib/designs/artist-recommender/contracts/feedback-api';
import { recommenderApp } from './app';

describe('ServingStack: the feedback loop', () => {
  const { serving, stacks } = recommenderApp('sandbox');
  const loop = stacks.serving.node.findChild('FeedbackLoop') as FeedbackLoop;
  const rankingLogs = Match.objectLike({ Ref: Match.stringLikeRegexp('^RankingServingHandlerLogs') });
  const servedLists = '{ ($.event_type = "recommendation") && ($.item_count >= 1) }';

  test("subscribes the recommendation function's log group to the served-list stream", () => {
    serving.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: rankingLogs,
      FilterPattern: servedLists,
      DestinationArn: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^FeedbackLoopServedListsDeliveryStream'), 'Arn'],
      },
    });
    serving.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'raw/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/',
        // The raw events bucket of the data stack.
        BucketARN: Match.objectLike({
          'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp('RawEventsBucket') }),
        }),
        ProcessingConfiguration: Match.objectLike({
          Processors: [
            Match.objectLike({ Type: 'Decompression' }),
            Match.objectLike({ Type: 'CloudWatchLogProcessing' }),
            Match.objectLike({ Type: 'AppendDelimiterToRecord' }),
          ],
        }),
      }),
    });
  });

  test('counts Impressions per Variant in the design namespace', () => {
    serving.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: rankingLogs,
      FilterPattern: servedLists,
      MetricTransformations: [
        Match.objectLike({
          MetricNamespace: 'ArtistRecommender',
          MetricName: 'Impressions',
          MetricValue: '$.item_count',
          Dimensions: [{ Key: 'Variant', Value: '$.variant' }],
        }),
      ],
    });
    expect(loop.metricImpressions('champion').dimensions).toEqual({ Variant: 'champion' });
  });

  test('keeps the served-list lines: the recommendation function filters no INFO line out', () => {
    // The line has no level, which Lambda takes as INFO: an application log level above INFO would
    // drop it (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
    const ranking = Object.values(serving.findResources('AWS::Lambda::Function')).find(
      (fn) => fn.Metadata?.['blueprint:handler'] === 'artist-recommender/recommendations',
    );
    expect(ranking?.Properties.LoggingConfig).toMatchObject({
      LogFormat: 'JSON',
      LogGroup: { Ref: expect.stringMatching(/^RankingServingHandlerLogs/) },
    });
    expect(['TRACE', 'DEBUG', 'INFO', undefined]).toContain(
      ranking?.Properties.LoggingConfig.ApplicationLogLevel,
    );
  });

  test('routes POST /v1/feedback to the feedback function, with the request model of its batch', () => {
    const feedbackFn = stacks.serving.getLogicalId(
      loop.feedback.function.node.defaultChild as lambda.CfnFunction,
    );
    serving.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      Integration: Match.objectLike({
        Type: 'AWS_PROXY',
        Uri: Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [feedbackFn, 'Arn'] }])],
        }),
      }),
      RequestModels: { 'application/json': { Ref: Match.stringLikeRegexp('^ApiPOSTv1feedbackBody') } },
    });
    serving.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({
        required: ['feedback'],
        properties: { feedback: Match.objectLike({ type: 'array', minItems: 1, maxItems: 500 }) },
      }),
    });
    expect(FEEDBACK_REQUEST_MODEL).toMatchObject({ required: ['feedback'] });
  });

  test('lets the feedback function put records to the events stream, and nothing more', () => {
    const feedbackFn = Object.values(serving.findResources('AWS::Lambda::Function')).find(
      (fn) => fn.Metadata?.['blueprint:handler'] === 'artist-recommender/feedback',
    )!;
    expect(feedbackFn.Properties.Environment.Variables).toMatchObject({
      // The data stack's events stream, where POST /v1/events sends its events too.
      EVENTS_DELIVERY_STREAM: {
        'Fn::GetStackOutput': expect.objectContaining({
          OutputName: expect.stringMatching(/^PublishOutputRefIngestionDeliveryStream/),
        }),
      },
      POWERTOOLS_METRICS_NAMESPACE: 'ArtistRecommender',
      POWERTOOLS_SERVICE_NAME: loop.feedbackServiceName,
      AB_VARIANTS: JSON.stringify([{ name: 'champion', weight: 1 }]),
    });
    expect(feedbackFn.Properties.VpcConfig).toBeUndefined();
    const roleRef = feedbackFn.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(serving.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleRef),
    );
    const actions = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => s.Action),
    );
    expect(actions).toEqual(expect.arrayContaining(['firehose:PutRecord', 'firehose:PutRecordBatch']));
    expect(actions.filter((a: string) => !a.startsWith('firehose:') && !a.startsWith('xray:'))).toEqual([]);
  });

  test('exposes the A/B metrics per variant, with the dimensions the function writes', () => {
    const clicks = loop.metricClicks('challenger');
    expect([clicks.namespace, clicks.metricName, clicks.dimensions]).toEqual([
      'ArtistRecommender',
      'Clicks',
      { service: 'feedback', Variant: 'challenger' },
    ]);
    expect(loop.metricFeedbackItems('champion').metricName).toBe('FeedbackItems');
    expect(Stack.of(loop)).toBe(stacks.serving);
  });
});
