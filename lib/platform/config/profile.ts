import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { MonitoringCadence } from '../constructs/ml/data-quality-monitor';
import type { SageMakerInstanceType } from '../constructs/ml/model-endpoint';

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
  readonly data: {
    /** Firehose buffering: how long events wait before they are written, and the most it gathers. */
    readonly ingestBufferSeconds: number;
    readonly ingestBufferMb: number;
    /** Days raw events are kept. */
    readonly rawRetentionDays: number;
    readonly database: {
      readonly minCapacityAcu: number;
      readonly maxCapacityAcu: number;
      readonly multiAz: boolean;
      readonly rotateCredentials: boolean;
      readonly backupRetentionDays: number;
      readonly protect: boolean;
    };
    /** Run the ETL every day; off in the sandbox, started by hand there. */
    readonly etlScheduleEnabled: boolean;
    /** The event lake, where a design's features are built there (`chooseFeatureEngine`). */
    readonly lake: {
      /** Athena cancels a query past this many bytes scanned ($5 per TB). */
      readonly bytesScannedCutoffPerQuery: number;
      /** Days staged lines and query outputs are kept. */
      readonly workFilesDays: number;
    };
  };
  readonly training: {
    readonly instanceType: SageMakerInstanceType;
    readonly instanceCount: number;
    readonly maxRuntimeHours: number;
    readonly volumeSizeGb: number;
    /** Managed spot training: up to 70% cheaper, resumed from checkpoints when interrupted. */
    readonly spot: boolean;
    /** Run the pipeline on the retraining cadence; off in the sandbox, started by hand there. */
    readonly scheduleEnabled: boolean;
    /**
     * Let a design's `tuning: { mode: 'sagemaker' }` run a SageMaker tuning job (many training
     * jobs per run); where false, the entry point searches within its own job.
     * @default false
     */
    readonly automaticModelTuning?: boolean;
  };
  /**
   * SageMaker Model Monitor data-quality schedule on the endpoint's captured traffic, for designs
   * whose model declares it, baselined by the training pipeline from each promoted run. Undefined
   * turns it off: the sandbox's serverless endpoint captures nothing to analyse, and every run bills
   * a processing instance (plus one baselining run per promotion).
   */
  readonly dataQualityMonitoring?: {
    readonly cadence: MonitoringCadence;
    readonly instanceType: SageMakerInstanceType;
  };
  /**
   * How the model endpoint is hosted. On instances, the instance type and how many each variant
   * scales to are the design's, chosen from its model's measured cost per request
   * (`Capacity.endpointHardware`); the profile sets only the floor.
   */
  readonly endpoint:
    | { readonly kind: 'serverless'; readonly memorySizeMb: number; readonly maxConcurrency: number }
    | {
        readonly kind: 'instances';
        /** Instances per variant at the least; the one-instance canary needs two. */
        readonly minInstances: number;
      };
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
    data: {
      ingestBufferSeconds: 60,
      ingestBufferMb: 1,
      rawRetentionDays: 30,
      // Pauses after 10 idle minutes: storage is all an idle sandbox database costs.
      database: {
        minCapacityAcu: 0,
        maxCapacityAcu: 2,
        multiAz: false,
        rotateCredentials: false,
        backupRetentionDays: 1,
        protect: false,
      },
      etlScheduleEnabled: false,
      // A runaway query costs at most $0.05.
      lake: { bytesScannedCutoffPerQuery: 10_000_000_000, workFilesDays: 7 },
    },
    training: {
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      maxRuntimeHours: 1,
      volumeSizeGb: 30,
      spot: true,
      scheduleEnabled: false,
    },
    // Scales to zero: nothing to pay while idle. One variant, no data capture (serverless limits).
    endpoint: { kind: 'serverless', memorySizeMb: 2048, maxConcurrency: 5 },
  },
  production: {
    name: 'production',
    loadFraction: 1,
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: RetentionDays.THREE_MONTHS,
    network: { maxAzs: 2, interfaceEndpointAzs: 2 },
    cache: { snapshotRetentionDays: 7 },
    reserveConcurrency: true,
    data: {
      ingestBufferSeconds: 300,
      ingestBufferMb: 128,
      rawRetentionDays: 400,
      database: {
        minCapacityAcu: 0.5,
        maxCapacityAcu: 16,
        multiAz: true,
        rotateCredentials: true,
        backupRetentionDays: 14,
        protect: true,
      },
      etlScheduleEnabled: true,
      // 3 billion events are about 100 GB in Parquet: 1 TB ($5) stops only a runaway query.
      lake: { bytesScannedCutoffPerQuery: 1_000_000_000_000, workFilesDays: 14 },
    },
    training: {
      instanceType: 'ml.g5.2xlarge',
      instanceCount: 1,
      maxRuntimeHours: 4,
      volumeSizeGb: 100,
      spot: false,
      scheduleEnabled: true,
      automaticModelTuning: true,
    },
    // Hourly: drift in the last hour's traffic shows before a day of it has been served.
    dataQualityMonitoring: { cadence: 'hourly', instanceType: 'ml.m5.xlarge' },
    // Two A/B variants with a canary and data capture: instances (serverless serves one variant).
    endpoint: { kind: 'instances', minInstances: 2 },
  },
};
