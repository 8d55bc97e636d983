import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const PROFILE_NAMES = ['sandbox', 'production'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * How a deployment trades cost for durability and capacity. The same stacks deploy either profile:
 * production is a setting, not a fork.
 */
export interface Profile {
  readonly name: ProfileName;
  /** Share of the design's peak load this deployment is sized for (throttles, concurrency). */
  readonly loadFraction: number;
  /** What `cdk destroy` does to data: the sandbox leaves nothing behind, production keeps it. */
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
  readonly network: {
    readonly maxAzs: number;
    /** Interface endpoints bill per AZ-hour; the sandbox places them in one AZ. */
    readonly interfaceEndpointAzs: number;
  };
  readonly cache: {
    /** Upper bound on stored data, which caps the bill; undefined leaves it unbounded. */
    readonly maxDataStorageGb?: number;
    /** Upper bound on ElastiCache Processing Units per second; undefined leaves it unbounded. */
    readonly maxEcpuPerSecond?: number;
    readonly snapshotRetentionDays: number;
  };
  /**
   * Reserve the derived concurrency for the function. Off in the sandbox: new accounts often have a
   * concurrency quota of 10, and a reservation there fails the deploy.
   */
  readonly reserveConcurrency: boolean;
}

export const PROFILES: Record<ProfileName, Profile> = {
  sandbox: {
    name: 'sandbox',
    loadFraction: 0.01,
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: RetentionDays.ONE_WEEK,
    network: { maxAzs: 2, interfaceEndpointAzs: 1 },
    cache: { maxDataStorageGb: 1, maxEcpuPerSecond: 5000, snapshotRetentionDays: 0 },
    reserveConcurrency: false,
  },
  production: {
    name: 'production',
    loadFraction: 1,
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: RetentionDays.THREE_MONTHS,
    network: { maxAzs: 2, interfaceEndpointAzs: 2 },
    cache: { snapshotRetentionDays: 7 },
    reserveConcurrency: true,
  },
};
