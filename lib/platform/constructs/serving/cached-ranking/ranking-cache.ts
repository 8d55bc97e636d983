import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface RankingCacheProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /**
   * Upper bound on stored data in GB. Serverless caches bill for what they store, so the bound caps
   * the bill; writes beyond it fail.
   * @default - no bound
   */
  readonly maxDataStorageGb?: number;
  /**
   * Upper bound on ElastiCache Processing Units per second; requests beyond it are throttled.
   * @default - no bound
   */
  readonly maxEcpuPerSecond?: number;
  /**
   * Days of daily snapshots to keep; 0 takes none.
   * @default 0
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Key that encrypts data at rest.
   * @default - an AWS owned key (data is still encrypted at rest)
   */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.DESTROY (the cache only holds data the pipeline can rebuild) */
  readonly removalPolicy?: RemovalPolicy;
}

/** Valkey's first port serves the primary endpoint, the second the reader endpoint. */
const VALKEY_PORTS = ec2.Port.tcpRange(6379, 6380);

/**
 * ElastiCache Serverless for Valkey: no nodes to size, TLS always on, cluster-mode protocol. It
 * holds precomputed recommendations; clients are admitted with `allowFrom` and nothing else.
 */
export class RankingCache extends Construct implements ec2.IConnectable {
  public readonly cache: elasticache.CfnServerlessCache;
  public readonly connections: ec2.Connections;
  /** Host name of the primary endpoint. */
  public readonly endpointAddress: string;
  /** Port of the primary endpoint. */
  public readonly endpointPort: string;
  /** The cache's name, which its CloudWatch metrics carry as the `clusterId` dimension. */
  public readonly cacheName: string;
  /** The storage bound the cache was given, in GB, if any. */
  public readonly maxDataStorageGb?: number;
  /** The ECPU-per-second bound the cache was given, if any. */
  public readonly maxEcpuPerSecond?: number;

  constructor(scope: Construct, id: string, props: RankingCacheProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Recommendation cache: admits only its clients',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: VALKEY_PORTS });

    const limits =
      props.maxDataStorageGb !== undefined || props.maxEcpuPerSecond !== undefined
        ? {
            dataStorage:
              props.maxDataStorageGb !== undefined
                ? { maximum: props.maxDataStorageGb, unit: 'GB' }
                : undefined,
            ecpuPerSecond:
              props.maxEcpuPerSecond !== undefined ? { maximum: props.maxEcpuPerSecond } : undefined,
          }
        : undefined;

    this.cache = new elasticache.CfnServerlessCache(this, 'Resource', {
      // The name is required; derive a unique one from the construct path, as CloudFormation would.
      serverlessCacheName: Names.uniqueResourceName(this, { maxLength: 40, separator: '-' }).toLowerCase(),
      description: 'Precomputed recommendations',
      engine: 'valkey',
      majorEngineVersion: '8',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
      securityGroupIds: [securityGroup.securityGroupId],
      kmsKeyId: props.encryptionKey?.keyArn,
      cacheUsageLimits: limits,
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 0,
    });
    this.cache.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    this.cacheName = this.cache.serverlessCacheName;
    this.maxDataStorageGb = props.maxDataStorageGb;
    this.maxEcpuPerSecond = props.maxEcpuPerSecond;
    this.endpointAddress = this.cache.attrEndpointAddress;
    this.endpointPort = this.cache.attrEndpointPort;
  }

  /**
   * A metric of this cache in `AWS/ElastiCache`. Serverless caches publish per `clusterId`, the
   * cache's name: BytesUsedForCache, ElastiCacheProcessingUnits, ThrottledCmds, CacheHitRate and more
   * (https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/serverless-metrics.html).
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { clusterId: this.cacheName },
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Bytes of data stored. @default Maximum over 1 minute */
  public metricBytesUsed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('BytesUsedForCache', { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** ECPUs consumed, the unit `maxEcpuPerSecond` bounds per second. @default Sum over 1 minute */
  public metricProcessingUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ElastiCacheProcessingUnits', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Lets `client` open connections to the cache. */
  public allowFrom(client: ec2.IConnectable): void {
    this.connections.allowDefaultPortFrom(client, 'Recommendation cache client');
  }
}
