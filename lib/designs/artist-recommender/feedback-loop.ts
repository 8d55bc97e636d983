import { Duration, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Profile } from '../../platform/config/profile';
import { BundledFunction } from '../../platform/constructs/compute/bundled-function';
import { ServedListRecording } from '../../platform/constructs/data/served-list-recording';
import { VARIANT_DIMENSION } from '../../platform/constructs/data/served-list-line';
import { CLICKS_METRIC, FEEDBACK_ITEMS_METRIC } from './contracts/feedback';

/** The feedback function's handler folder; Powertools' `service` dimension is its last part. */
const FEEDBACK_HANDLER = 'artist-recommender/feedback';
/** The `service` dimension of the feedback function's metrics (Clicks, FeedbackItems). */
export const FEEDBACK_SERVICE_NAME = FEEDBACK_HANDLER.split('/').pop()!;

export interface FeedbackLoopProps {
  /** The recommendation function's log group: one `recommendation` line per served list. */
  readonly servingLogGroup: logs.ILogGroup;
  /** The raw events bucket and its key: served lists land under `raw/` beside posted events. */
  readonly rawEvents: s3.IBucket;
  readonly key: kms.IKey;
  /** The events delivery stream: `POST /v1/feedback` sends its `feedback` lines there. */
  readonly events: firehose.IDeliveryStream;
  /** The A/B variants the recommendation function assigns users to (feedback is counted by them). */
  readonly variants: readonly { readonly name: string; readonly weight: number }[];
  /** CloudWatch namespace of the design's metrics. */
  readonly metricsNamespace: string;
  readonly profile: Profile;
}

/**
 * What the recommender records about its answers: every served list, from the recommendation
 * function's log into the raw bucket (`ServedListRecording`, with the Impressions metric), and the
 * function behind `POST /v1/feedback`, which sends what users did with the items to the events
 * stream (`lambda/artist-recommender/feedback`, with the Clicks and FeedbackItems metrics). The
 * stack adds the route. The metric helpers are the A/B readout's inputs, per variant.
 */
export class FeedbackLoop extends Construct {
  public readonly servedLists: ServedListRecording;
  public readonly feedback: BundledFunction;
  public readonly metricsNamespace: string;
  /** The `service` dimension of the feedback function's metrics. */
  public readonly feedbackServiceName = FEEDBACK_SERVICE_NAME;

  constructor(scope: Construct, id: string, props: FeedbackLoopProps) {
    super(scope, id);
    const { profile } = props;
    this.metricsNamespace = props.metricsNamespace;
    this.servedLists = new ServedListRecording(this, 'ServedLists', {
      logGroup: props.servingLogGroup,
      bucket: props.rawEvents,
      key: props.key,
      bufferingInterval: Duration.seconds(profile.data.ingestBufferSeconds),
      bufferingSize: Size.mebibytes(profile.data.ingestBufferMb),
      metricsNamespace: props.metricsNamespace,
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
    });
    // Feedback goes to Firehose over its public endpoint, as events do: the function needs no VPC.
    this.feedback = new BundledFunction(this, 'Feedback', {
      handlerFolder: FEEDBACK_HANDLER,
      description: 'Serves POST /v1/feedback',
      timeout: Duration.seconds(10),
      environment: {
        EVENTS_DELIVERY_STREAM: props.events.deliveryStreamName,
        AB_VARIANTS: JSON.stringify(props.variants.map(({ name, weight }) => ({ name, weight }))),
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      },
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    props.events.grantPutRecords(this.feedback.function);
  }

  /** Items shown to users of `variant` (from the served lists' log lines). */
  public metricImpressions(variant: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.servedLists.metricImpressions(variant, props);
  }

  /** Feedback items with clicked = true, counted under `variant`. */
  public metricClicks(variant: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.variantMetric(CLICKS_METRIC, variant, props);
  }

  /** Every feedback item delivered, counted under `variant`. */
  public metricFeedbackItems(variant: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.variantMetric(FEEDBACK_ITEMS_METRIC, variant, props);
  }

  private variantMetric(
    metricName: string,
    variant: string,
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric {
    // Powertools adds a `service` dimension to every EMF metric: the function's service name.
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      statistic: cloudwatch.Stats.SUM,
      ...props,
      dimensionsMap: {
        ...props.dimensionsMap,
        service: this.feedbackServiceName,
        [VARIANT_DIMENSION]: variant,
      },
    });
  }
}
