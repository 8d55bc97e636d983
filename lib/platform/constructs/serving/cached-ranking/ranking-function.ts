import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AbVariant } from '../../../config/design';
import { BundledFunction } from '../../compute/bundled-function';
import type { RecommendationCache } from './ranking-cache';

/** The model endpoint the function asks on a cache miss. */
export interface RecommendationModelEndpoint {
  readonly endpointName: string;
  readonly endpointArn: string;
  /** Production variants and their share of users. */
  readonly variants: readonly AbVariant[];
}

export interface RecommendationFunctionProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly cache: RecommendationCache;
  /**
   * Endpoint asked on a miss.
   * @default - none: a miss is answered from the popularity list, and every user is on the single
   *   `champion` variant whose lists the batch loader writes
   */
  readonly modelEndpoint?: RecommendationModelEndpoint;
  /** Items scoring below this cosine similarity are dropped, in [-1, 1]. */
  readonly scoreThreshold: number;
  /** Items the model is asked for, and the default `limit`'s ceiling. */
  readonly topK: number;
  readonly timeout: Duration;
  readonly cacheConnectTimeoutMs: number;
  readonly cacheCommandTimeoutMs: number;
  readonly modelTimeoutMs: number;
  readonly modelAnswerTtlSeconds: number;
  /** @default - no reservation (the function shares the account's unreserved pool) */
  readonly reservedConcurrency?: number;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default 'recommendations' */
  readonly serviceName?: string;
  /** CloudWatch namespace of the function's metrics. */
  readonly metricsNamespace: string;
}

/**
 * The function behind `GET /v1/users/{userId}/recommendations` (`lambda/recommendations/`): reads the
 * cache, asks the model on a miss, and falls back to the popularity list.
 */
export class RecommendationFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly metricsNamespace: string;
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: RecommendationFunctionProps) {
    super(scope, id);
    this.metricsNamespace = props.metricsNamespace;
    this.serviceName = props.serviceName ?? 'recommendations';
    const endpoint = props.modelEndpoint;
    const variants = endpoint?.variants ?? [{ name: 'champion', weight: 1 }];
    const handler = new BundledFunction(this, 'Handler', {
      handlerFolder: 'artist-recommender/recommendations',
      description: 'Serves GET /v1/users/{userId}/recommendations',
      network: { vpc: props.vpc, subnets: props.subnets },
      memorySizeMb: props.memorySizeMb ?? 512,
      timeout: props.timeout,
      reservedConcurrency: props.reservedConcurrency,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        CACHE_HOST: props.cache.endpointAddress,
        CACHE_PORT: props.cache.endpointPort,
        CACHE_CONNECT_TIMEOUT_MS: String(props.cacheConnectTimeoutMs),
        CACHE_COMMAND_TIMEOUT_MS: String(props.cacheCommandTimeoutMs),
        MODEL_ENDPOINT_NAME: endpoint?.endpointName ?? '',
        MODEL_TIMEOUT_MS: String(props.modelTimeoutMs),
        MODEL_ANSWER_TTL_SECONDS: String(props.modelAnswerTtlSeconds),
        MODEL_TOP_K: String(props.topK),
        AB_VARIANTS: JSON.stringify(variants.map(({ name, weight }) => ({ name, weight }))),
        SCORE_THRESHOLD: String(props.scoreThreshold),
        DEFAULT_LIMIT: String(Math.min(10, props.topK)),
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
    this.function = handler.function;
    props.cache.allowFrom(this.function);
    if (endpoint) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [endpoint.endpointArn] }),
      );
    }
  }
}
