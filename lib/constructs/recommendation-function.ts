import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AbVariant } from '../config/design';
import type { RecommendationCache } from './recommendation-cache';

const PROJECT_ROOT = path.join(__dirname, '..', '..');

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
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Recommendation function',
      allowAllOutbound: false,
    });
    const endpoint = props.modelEndpoint;
    const variants = endpoint?.variants ?? [{ name: 'champion', weight: 1 }];

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, 'lambda', 'recommendations', 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 512,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        // The runtime's AWS SDK is used: it keeps the bundle small and is loaded only on a miss.
        externalModules: ['@aws-sdk/*'],
      },
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
        // Stack traces in the logs point into lambda/ sources instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    props.cache.allowFrom(this.function);
    // The only other peer: AWS APIs through the VPC's interface endpoints (HTTPS).
    securityGroup.addEgressRule(
      ec2.Peer.ipv4(props.vpc.vpcCidrBlock),
      ec2.Port.tcp(443),
      'AWS APIs via VPC endpoints',
    );
    if (endpoint) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:InvokeEndpoint'],
          resources: [endpoint.endpointArn],
        }),
      );
    }

    const role = this.function.role!;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS managed policy grants exactly log stream creation and writes for the function.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'The AWS managed policy grants the ENI actions Lambda needs to run in the VPC; they take no resource ARN.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
