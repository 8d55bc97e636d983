import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Where raw events land: one folder per UTC hour, as the ETL's daily listing expects. */
export const RAW_EVENTS_PREFIX = 'raw/';
export const FIREHOSE_ERRORS_PREFIX = 'firehose-errors/';

/** Where a Firehose stream writes raw events: the layout the ETL lists, gzip JSON lines. */
export interface RawEventsDestinationProps {
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly bufferingInterval: Duration;
  readonly bufferingSize: Size;
}

/**
 * The S3 destination of every stream into the raw events bucket (`raw/YYYY/MM/DD/HH/`, errors
 * under `firehose-errors/`), so posted events and recorded lines land in one layout.
 */
export function rawEventsDestination(
  props: RawEventsDestinationProps,
  deliveryLogs: logs.ILogGroup,
  processors?: firehose.IDataProcessor[],
): firehose.S3Bucket {
  return new firehose.S3Bucket(props.bucket, {
    ...(processors ? { processors } : {}),
    compression: firehose.Compression.GZIP,
    dataOutputPrefix: `${RAW_EVENTS_PREFIX}!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/`,
    errorOutputPrefix: `${FIREHOSE_ERRORS_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/`,
    fileExtension: '.jsonl.gz',
    bufferingInterval: props.bufferingInterval,
    bufferingSize: props.bufferingSize,
    encryptionKey: props.key,
    loggingConfig: new firehose.EnableLogging(deliveryLogs),
  });
}

export interface EventIngestionProps {
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  /**
   * How long Firehose gathers events before writing an object: short in a sandbox, so events show
   * up within a minute; long in production, so objects are large and few.
   */
  readonly bufferingInterval: Duration;
  readonly bufferingSize: Size;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Kinesis Data Firehose into the raw events bucket: gzip JSON lines under `raw/YYYY/MM/DD/HH/`,
 * records Firehose cannot deliver under `firehose-errors/`, encrypted in the stream and at rest.
 */
export class EventIngestion extends Construct {
  public readonly deliveryStream: firehose.DeliveryStream;

  constructor(scope: Construct, id: string, props: EventIngestionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      encryption: firehose.StreamEncryption.customerManagedKey(props.key),
      destination: rawEventsDestination(props, logGroup),
    });
    // aws-cdk-lib adds a mapping of Firehose's CIDR blocks to every stack with a delivery stream; only
    // Redshift and Splunk destinations read it, and an unused mapping fails cfn-lint (W7001).
    Stack.of(this).node.tryRemoveChild('@aws-cdk--aws-kinesisfirehose.CidrBlocks');
    // The bucket is Firehose's alone: it writes objects anywhere in it (data and error prefixes).
    Validations.of(this.deliveryStream).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(props.bucket).getLogicalId(props.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
      reason: 'Firehose writes the raw events bucket, which holds nothing else: raw/ and firehose-errors/.',
    });
  }
}
