import { RemovalPolicy, Stack, type Duration, type Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeGrantWildcards } from '../../nag/acknowledge-grant-wildcards';
import { rawEventsDestination } from './event-ingestion';
import {
  IMPRESSIONS_METRIC,
  SERVED_LIST_COUNT_FIELD,
  SERVED_LIST_EVENT_TYPE,
  SERVED_LIST_VARIANT_FIELD,
  VARIANT_DIMENSION,
} from './served-list-line';

export { IMPRESSIONS_METRIC, VARIANT_DIMENSION };

export interface ServedListRecordingProps {
  /**
   * The serving function's log group, where it writes one line per served list
   * (`served-list-line.ts` says what the construct reads of the line).
   */
  readonly logGroup: logs.ILogGroup;
  /** The raw events bucket: the lines land under `raw/YYYY/MM/DD/HH/` beside the posted events. */
  readonly bucket: s3.IBucket;
  /** Encrypts the stream and the objects it writes (the bucket's key). */
  readonly key: kms.IKey;
  /** How long Firehose gathers lines before it writes an object. */
  readonly bufferingInterval: Duration;
  readonly bufferingSize: Size;
  /** CloudWatch namespace of the Impressions metric (the design's). */
  readonly metricsNamespace: string;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** Of the delivery stream's own log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Records what a serving function served without a network call on its hot path: the function
 * writes one JSON line per served list to its log; a subscription filter sends those lines to a
 * Firehose stream that writes them into the raw bucket as JSON lines (gzip, one folder per UTC
 * hour, as `EventIngestion` writes posted events, so the ETL reads both with one listing); a
 * metric filter on the same lines counts the items shown, per variant (`metricImpressions`).
 *
 * CloudWatch Logs sends subscription data to Firehose gzip-compressed, as a JSON envelope of log
 * events. Firehose's processors undo both: Decompression (GZIP) unzips it
 * (https://docs.aws.amazon.com/firehose/latest/dev/writing-with-cloudwatch-logs-decompression.html),
 * CloudWatchLogProcessing with DataMessageExtraction keeps only each event's message, dropping the
 * envelope's metadata and the control messages
 * (https://docs.aws.amazon.com/firehose/latest/dev/Message_extraction.html), and
 * AppendDelimiterToRecord ends each message with a newline, so the object holds one line per list
 * (https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-s3bucketprefix.html#dynamic-partitioning-new-line-delimiter).
 * A record Firehose cannot decompress goes, as is, under the error prefix (`decompression-failed`,
 * https://docs.aws.amazon.com/firehose/latest/dev/decomp-faq.html).
 */
export class ServedListRecording extends Construct {
  public readonly deliveryStream: firehose.DeliveryStream;
  public readonly subscriptionFilter: logs.SubscriptionFilter;
  public readonly impressionsFilter: logs.MetricFilter;
  public readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: ServedListRecordingProps) {
    super(scope, id);
    this.metricsNamespace = props.metricsNamespace;
    // Only a served list's line: the function's other lines (Powertools logs, EMF metrics, Lambda's
    // own reports) have no such event_type, and a list with no item is never written.
    const servedLists = logs.FilterPattern.all(
      logs.FilterPattern.stringValue('$.event_type', '=', SERVED_LIST_EVENT_TYPE),
      logs.FilterPattern.numberValue(`$.${SERVED_LIST_COUNT_FIELD}`, '>=', 1),
    );

    const deliveryLogs = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      encryption: firehose.StreamEncryption.customerManagedKey(props.key),
      destination: rawEventsDestination(props, deliveryLogs, [
        new firehose.DecompressionProcessor({
          compressionFormat: firehose.DecompressionProcessorCompressionFormat.GZIP,
        }),
        new firehose.CloudWatchLogProcessor({ dataMessageExtraction: true }),
        new firehose.AppendDelimiterToRecordProcessor(),
      ]),
    });
    // As in EventIngestion: a mapping only Redshift and Splunk destinations read, which fails cfn-lint.
    Stack.of(this).node.tryRemoveChild('@aws-cdk--aws-kinesisfirehose.CidrBlocks');
    // The bucket's objects, by its ARN: a reference within the stack (`<Id.Arn>/*`) or, from another
    // stack, through that stack's output (which names the bucket's logical ID).
    const bucketId = Stack.of(props.bucket).getLogicalId(props.bucket.node.defaultChild as s3.CfnBucket);
    acknowledgeGrantWildcards(this.deliveryStream, [
      {
        finding: new RegExp(`^Resource::.*${bucketId}.*Arn.*/\\*$`),
        reason: 'Firehose writes the raw events bucket, which holds nothing else: raw/ and firehose-errors/.',
      },
    ]);

    // The destination's role (CloudWatch Logs assumes it) may put records to this stream only.
    this.subscriptionFilter = new logs.SubscriptionFilter(this, 'Subscription', {
      logGroup: props.logGroup,
      destination: new destinations.FirehoseDestination(this.deliveryStream),
      filterPattern: servedLists,
    });

    // Variant is a handful of values: far below the 1,000 name/value pairs at which CloudWatch Logs
    // disables a metric filter
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-logs-metricfilter-dimension.html).
    this.impressionsFilter = new logs.MetricFilter(this, 'Impressions', {
      logGroup: props.logGroup,
      filterPattern: servedLists,
      metricNamespace: props.metricsNamespace,
      metricName: IMPRESSIONS_METRIC,
      metricValue: `$.${SERVED_LIST_COUNT_FIELD}`,
      dimensions: { [VARIANT_DIMENSION]: `$.${SERVED_LIST_VARIANT_FIELD}` },
      unit: cloudwatch.Unit.COUNT,
    });
  }

  /** Items shown to users of `variant`: the sum over the period (one data point per served list). */
  public metricImpressions(variant: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName: IMPRESSIONS_METRIC,
      statistic: cloudwatch.Stats.SUM,
      ...props,
      dimensionsMap: { ...props.dimensionsMap, [VARIANT_DIMENSION]: variant },
    });
  }
}
