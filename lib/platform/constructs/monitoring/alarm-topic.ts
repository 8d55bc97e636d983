import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /**
   * A customer managed key that encrypts the topic. CloudWatch can publish to an encrypted topic
   * only if the key policy lets `cloudwatch.amazonaws.com` use the key, which an AWS managed key's
   * policy cannot: "Enable compatibility between event sources from AWS services and encrypted
   * topics" (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
   */
  readonly key: kms.IKey;
}

/**
 * The one topic every alarm of a deployment notifies: subscribe an address or a chat channel to it
 * once, and every alarm, the model endpoint's rollback alarms included, reaches it. It lives in the
 * stateful data stack with the key, so subscriptions outlive the stacks that define the alarms, and
 * the endpoint's alarms, upstream of the monitoring stack, can name it without a cycle.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.Topic;
  /** The alarm action that publishes to the topic. */
  public readonly action: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    const stack = Stack.of(this);
    // Only this account's alarms publish (the confused-deputy guard of the same document).
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOwnAlarms,
      }),
    );
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOwnAlarms,
      }),
    );
    this.action = new cloudwatchActions.SnsAction(this.topic);
  }
}
