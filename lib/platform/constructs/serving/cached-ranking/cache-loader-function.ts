import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { BundledFunction } from '../../compute/bundled-function';
import type { RankingCache } from './ranking-cache';

export interface CacheLoaderFunctionProps {
  /** The design's loader: a folder under `lambda/` whose `handler.ts` exports `handler`. */
  readonly handlerFolder: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly cache: RankingCache;
  /**
   * Items scoring below this are not served; a user left with none is not stored, so serving treats
   * them as unknown. The same value the serving function gets.
   */
  readonly scoreThreshold: number;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The function that loads a training run's precomputed lists into the cache: it streams them from
 * S3, writes a new version, then swaps the pointer. Grant it read access to the objects it loads.
 */
export class CacheLoaderFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: CacheLoaderFunctionProps) {
    super(scope, id);
    const loader = new BundledFunction(this, 'Loader', {
      handlerFolder: props.handlerFolder,
      description: 'Loads precomputed lists into the cache and swaps the version pointer',
      network: { vpc: props.vpc, subnets: props.subnets },
      // Streams, so memory buys CPU for JSON parsing and TLS, not room for the file.
      memorySizeMb: 1024,
      timeout: Duration.minutes(15),
      environment: {
        CACHE_HOST: props.cache.endpointAddress,
        CACHE_PORT: props.cache.endpointPort,
        SCORE_THRESHOLD: String(props.scoreThreshold),
      },
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    this.function = loader.function;
    props.cache.allowFrom(this.function);
  }
}
