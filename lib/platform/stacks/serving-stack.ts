import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import { MAX_EVENTS_PER_REQUEST } from '../../../lambda/artist-recommender/events/limits';
import { BundledFunction } from '../constructs/compute/bundled-function';
import type { AppConfig } from '../config/app-config';
import type { PrivateNetwork } from '../constructs/network/private-network';
import { CacheLoaderFunction } from '../constructs/serving/cached-ranking/cache-loader-function';
import { RecommendationCache } from '../constructs/serving/cached-ranking/ranking-cache';
import {
  RecommendationFunction,
  type RecommendationModelEndpoint,
} from '../constructs/serving/cached-ranking/ranking-function';
import { ServingApi } from '../constructs/serving/serving-api';
import type { Construct } from 'constructs';

export interface ServingStackProps extends StackProps {
  readonly config: AppConfig;
  readonly network: PrivateNetwork;
  /** @default - no endpoint: misses are answered from the popularity list */
  readonly modelEndpoint?: RecommendationModelEndpoint;
  /** Where `POST /v1/events` sends accepted events. */
  readonly events: firehose.IDeliveryStream;
}

/** The read path users call: API Gateway -> the recommendation function -> the cache (-> the model). */
export class ServingStack extends Stack {
  public readonly cache: RecommendationCache;
  public readonly recommendations: RecommendationFunction;
  public readonly api: ServingApi;
  public readonly cacheLoader: CacheLoaderFunction;
  public readonly events: BundledFunction;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { design, profile, capacity } = props.config;
    const { vpc, isolatedSubnets } = props.network;

    this.cache = new RecommendationCache(this, 'Cache', {
      vpc,
      subnets: isolatedSubnets,
      maxDataStorageGb: profile.cache.maxDataStorageGb,
      maxEcpuPerSecond: profile.cache.maxEcpuPerSecond,
      snapshotRetentionDays: profile.cache.snapshotRetentionDays,
    });
    // The function's only AWS API call is the model endpoint's runtime API.
    props.network.addInterfaceEndpoint(
      'SageMakerRuntime',
      ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    );

    this.recommendations = new RecommendationFunction(this, 'Recommendations', {
      vpc,
      subnets: isolatedSubnets,
      cache: this.cache,
      modelEndpoint: props.modelEndpoint,
      scoreThreshold: design.requirements.scoreThreshold,
      topK: design.requirements.topK,
      timeout: capacity.functionTimeout,
      cacheConnectTimeoutMs: capacity.cacheConnectTimeoutMs,
      cacheCommandTimeoutMs: capacity.cacheCommandTimeoutMs,
      modelTimeoutMs: capacity.modelTimeoutMs,
      modelAnswerTtlSeconds: capacity.modelAnswerTtlSeconds,
      reservedConcurrency: capacity.reservedConcurrency,
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
      metricsNamespace: metricsNamespace(design.id),
    });

    this.cacheLoader = new CacheLoaderFunction(this, 'CacheLoader', {
      vpc,
      subnets: isolatedSubnets,
      cache: this.cache,
      scoreThreshold: design.requirements.scoreThreshold,
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });

    this.api = new ServingApi(this, 'Api', {
      rateLimit: capacity.apiRateLimit,
      burstLimit: capacity.apiBurstLimit,
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
      description: `${design.summary} (${profile.name})`,
    });
    const recommendationsPath = '/v1/users/{userId}/recommendations';
    this.api.addFunctionRoute('GET', recommendationsPath, this.recommendations.function, {
      pathParameters: ['userId'],
      queryParameters: { limit: false },
    });

    // Events go to Firehose over its public endpoint: the function needs no VPC.
    this.events = new BundledFunction(this, 'Events', {
      handlerFolder: 'artist-recommender/events',
      description: 'Serves POST /v1/events',
      timeout: Duration.seconds(10),
      environment: {
        EVENTS_DELIVERY_STREAM: props.events.deliveryStreamName,
        POWERTOOLS_SERVICE_NAME: 'events',
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(design.id),
      },
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    props.events.grantPutRecords(this.events.function);
    this.api.addFunctionRoute('POST', '/v1/events', this.events.function, {
      bodySchema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        type: apigateway.JsonSchemaType.OBJECT,
        required: ['events'],
        properties: {
          events: { type: apigateway.JsonSchemaType.ARRAY, minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST },
        },
      },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the serving API' });
    new CfnOutput(this, 'RecommendationsFunctionName', { value: this.recommendations.function.functionName });
    new CfnOutput(this, 'CacheLoaderFunctionName', { value: this.cacheLoader.function.functionName });
    new CfnOutput(this, 'CacheEndpoint', {
      value: `${this.cache.endpointAddress}:${this.cache.endpointPort}`,
    });
  }
}

/** CloudWatch namespace of a design's metrics, e.g. `ArtistRecommender`. */
export function metricsNamespace(designId: string): string {
  return designId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
