import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { BundledFunction } from '../constructs/compute/bundled-function';
import { ServingApi } from '../constructs/serving/serving-api';

export interface ServingStackProps extends StackProps {
  readonly config: AppConfig;
  /** Where `POST /v1/events` sends accepted events. */
  readonly events: firehose.IDeliveryStream;
  /** The design's events handler under `lambda/`, validating with the design's event contract. */
  readonly eventsHandler: string;
  /** API Gateway's model of the `POST /v1/events` body, derived from the same contract. */
  readonly eventsRequestModel: apigateway.JsonSchema;
}

/**
 * The API users call, and `POST /v1/events`, which every design has: events are the data its models
 * learn from. The design adds its serving pattern's routes (cached ranking, real-time scoring).
 */
export class ServingStack extends Stack {
  public readonly api: ServingApi;
  public readonly events: BundledFunction;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { design, profile, capacity } = props.config;
    this.api = new ServingApi(this, 'Api', {
      rateLimit: capacity.apiRateLimit,
      burstLimit: capacity.apiBurstLimit,
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
      description: `${design.summary} (${profile.name})`,
    });
    // Events go to Firehose over its public endpoint: the function needs no VPC.
    this.events = new BundledFunction(this, 'Events', {
      handlerFolder: props.eventsHandler,
      description: 'Serves POST /v1/events',
      timeout: Duration.seconds(10),
      environment: {
        EVENTS_DELIVERY_STREAM: props.events.deliveryStreamName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(design.id),
      },
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    props.events.grantPutRecords(this.events.function);
    this.api.addFunctionRoute('POST', '/v1/events', this.events.function, {
      bodySchema: props.eventsRequestModel,
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the serving API' });
  }
}

/** CloudWatch namespace of a design's metrics, e.g. `FeedRanking` for `feed-ranking`. */
export function metricsNamespace(designId: string): string {
  return designId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
