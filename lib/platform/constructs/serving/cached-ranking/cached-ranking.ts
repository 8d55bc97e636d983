import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { Capacity } from '../../../config/capacity';
import type { Profile } from '../../../config/profile';
import type { PrivateNetwork } from '../../network/private-network';
import { CacheLoaderFunction } from './cache-loader-function';
import { RankingCache } from './ranking-cache';
import type { IModelEndpoint } from '../../ml/model-endpoint-base';
import type { FeatureFlags } from '../../flags/feature-flags';
import { RankingFunction } from './ranking-function';

/** What a cached-ranking design decides: its lists and who serves and loads them. */
export interface CachedRankingOptions {
  /** The design's serving handler under `lambda/`, e.g. `<design>/recommendations`. */
  readonly servingHandler: string;
  /** The design's loader handler under `lambda/`, e.g. `<design>/cache-loader`. */
  readonly loaderHandler: string;
  /** Says what the serving function answers, e.g. its route. */
  readonly description: string;
  /** Items precomputed and cached per user; the model is asked for as many on a miss. */
  readonly topK: number;
  /** Items scoring below this are never served. */
  readonly scoreThreshold: number;
}

export interface CachedRankingProps extends CachedRankingOptions {
  readonly network: PrivateNetwork;
  readonly profile: Pick<Profile, 'cache'>;
  readonly capacity: Capacity;
  /** @default - no endpoint: misses are answered from the fallback list */
  readonly modelEndpoint?: IModelEndpoint;
  /**
   * Feature flags the serving function reads; its isolated VPC then needs the `AppConfigData`
   * interface endpoint.
   * @default - no flags: the serving function uses its deployed configuration
   */
  readonly flags?: FeatureFlags;
  readonly metricsNamespace: string;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The largest list a cached-ranking design precomputes per user. */
export const MAX_TOP_K = 100;

/**
 * Serving pattern one, cached ranking: a batch job precomputes each user's ranked list, the loader
 * writes a new version into the cache and swaps a pointer, and the serving function reads the list,
 * asks the model on a miss, and falls back to a list every user gets. Reads stay within a
 * millisecond-scale budget at any traffic; the model serves only misses and the challenger.
 */
export class CachedRanking extends Construct {
  public readonly cache: RankingCache;
  public readonly serving: RankingFunction;
  public readonly loader: CacheLoaderFunction;

  constructor(scope: Construct, id: string, props: CachedRankingProps) {
    super(scope, id);
    if (!Number.isInteger(props.topK) || props.topK < 1 || props.topK > MAX_TOP_K) {
      throw new Error(`CachedRanking: topK must be an integer in [1, ${MAX_TOP_K}]; got ${props.topK}`);
    }
    if (!(props.scoreThreshold >= -1 && props.scoreThreshold <= 1)) {
      throw new Error(`CachedRanking: scoreThreshold must lie in [-1, 1]; got ${props.scoreThreshold}`);
    }
    const { vpc, isolatedSubnets } = props.network;
    const { capacity, profile } = props;
    const logs = { logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };
    this.cache = new RankingCache(this, 'Cache', {
      vpc,
      subnets: isolatedSubnets,
      maxDataStorageGb: profile.cache.maxDataStorageGb,
      maxEcpuPerSecond: profile.cache.maxEcpuPerSecond,
      snapshotRetentionDays: profile.cache.snapshotRetentionDays,
    });
    this.serving = new RankingFunction(this, 'Serving', {
      handlerFolder: props.servingHandler,
      description: props.description,
      vpc,
      subnets: isolatedSubnets,
      cache: this.cache,
      modelEndpoint: props.modelEndpoint,
      scoreThreshold: props.scoreThreshold,
      topK: props.topK,
      timeout: capacity.functionTimeout,
      cacheConnectTimeoutMs: capacity.cacheConnectTimeoutMs,
      cacheCommandTimeoutMs: capacity.cacheCommandTimeoutMs,
      modelTimeoutMs: capacity.modelTimeoutMs,
      modelAnswerTtlSeconds: capacity.modelAnswerTtlSeconds,
      reservedConcurrency: capacity.reservedConcurrency,
      metricsNamespace: props.metricsNamespace,
      flags: props.flags,
      ...logs,
    });
    this.loader = new CacheLoaderFunction(this, 'Loader', {
      handlerFolder: props.loaderHandler,
      vpc,
      subnets: isolatedSubnets,
      cache: this.cache,
      scoreThreshold: props.scoreThreshold,
      ...logs,
    });
  }

  /** The serving function. */
  public get servingFunction(): nodejs.NodejsFunction {
    return this.serving.function;
  }
}
