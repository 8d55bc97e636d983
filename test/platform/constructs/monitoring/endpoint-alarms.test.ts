import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ModelEndpoint } from '../../../../lib/platform/constructs/ml/model-endpoint';
import { AlarmTopic } from '../../../../lib/platform/constructs/monitoring/alarm-topic';
import { endpointAlarms } from '../../../../lib/platform/constructs/monitoring/endpoint-alarms';

function setup() {
  const stack = new Stack(undefined, 'Ml', { env: { account: '111122223333', region: 'eu-west-1' } });
  const endpoint = ModelEndpoint.fromEndpointAttributes(stack, 'Endpoint', {
    endpointName: 'recommender',
    variants: [
      { name: 'champion', weight: 0.9 },
      { name: 'challenger', weight: 0.1 },
    ],
  });
  const topic = new AlarmTopic(stack, 'Alarms', { key: new kms.Key(stack, 'Key') });
  return { stack, endpoint, topic };
}

describe('endpointAlarms', () => {
  test('one errors and one latency alarm per variant, named <variant>Errors and <variant>Latency', () => {
    const { stack, endpoint, topic } = setup();
    // WHEN the alarms are built with a 1.44% error share at 6000 model requests a minute
    const alarms = endpointAlarms(
      stack,
      endpoint,
      { p99ModelLatency: Duration.millis(200), maxErrorShare: 0.0144, peakRequestsPerMinute: 6000 },
      topic.action,
    );
    // THEN the construct ids stay those of the endpoint's former rollback alarms
    expect(alarms.map((a) => [a.errors.node.id, a.latency.node.id])).toEqual([
      ['championErrors', 'championLatency'],
      ['challengerErrors', 'challengerLatency'],
    ]);
    const template = Template.fromStack(stack);
    // AND the errors threshold is the budget's share of each variant's peak minute: 0.0144 x 6000 x 0.9
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocation5XXErrors',
      Threshold: 77,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: Match.arrayWith([{ Name: 'VariantName', Value: 'champion' }]),
    });
    // AND a trickle of canary traffic still rolls back on its first errors: 0.0144 x 6000 x 0.1 = 8
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocation5XXErrors',
      Threshold: 8,
      Dimensions: Match.arrayWith([{ Name: 'VariantName', Value: 'challenger' }]),
    });
    // AND latency is compared in microseconds, at p99
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 200_000,
      TreatMissingData: 'notBreaching',
    });
    // AND every alarm notifies the topic
    const topicId = stack.getLogicalId(topic.topic.node.defaultChild as never);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  test('without thresholds, the endpoint keeps its former guardrails: any 5xx, p99 over 1 s, no action', () => {
    const { stack, endpoint } = setup();
    endpointAlarms(stack, endpoint);
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { MetricName: 'Invocation5XXErrors', Threshold: 1 },
      2,
    );
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { MetricName: 'ModelLatency', Threshold: 1_000_000 },
      2,
    );
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
  });
});

describe('AlarmTopic', () => {
  test("is encrypted with the key, refuses plain HTTP, and lets only this account's alarms publish and use the key", () => {
    const { stack } = setup();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '111122223333' } }),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: Match.objectLike({
              StringEquals: { 'aws:SourceAccount': '111122223333' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:111122223333:alarm:*'],
                  ],
                },
              },
            }),
          }),
        ]),
      },
    });
  });
});
