import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AppConfig } from '../../platform/config/app-config';
import { BundledFunction } from '../../platform/constructs/compute/bundled-function';
import { EtlPipeline } from '../../platform/constructs/data/etl-pipeline';
import { ARTIFACT_PREFIXES } from '../../platform/constructs/ml/artifact-layout';
import type { PrivateNetwork } from '../../platform/constructs/network/private-network';
import type { AccountDatabase } from '../../platform/constructs/data/account-database';
import { DatabaseFunction } from '../../platform/constructs/data/database-function';
import type { FeatureGroup } from '../../platform/constructs/data/feature-group';
import type { DataStack } from '../../platform/stacks/data-stack';
import type { DataPolicy } from './design';
import { join } from 'node:path';
import { LAKE_PREFIXES, type EventLake } from '../../platform/constructs/data/event-lake';
import type { EtlLake } from '../../platform/constructs/data/etl-pipeline';
import { LAKE_OUTPUTS, LAKE_TABLES, readLakeQuery } from '../../../lambda/artist-recommender/lake/queries';
import { athenaLakeDdl } from '../../../lambda/artist-recommender/lake/schema';

export interface EtlStackProps extends StackProps {
  readonly config: AppConfig;
  readonly network: PrivateNetwork;
  readonly data: DataStack;
  readonly database: AccountDatabase;
  readonly userFeatures: FeatureGroup;
  readonly policy: DataPolicy;
  /** The event lake, where the design builds its event features there (`chooseFeatureEngine`). */
  readonly lake?: EventLake;
}

const LAKE_SQL = join(__dirname, '..', '..', '..', 'sql', 'artist-recommender', 'lake');

/** The lake's statements for the ETL: its DDL, the loads and the outputs, read from the lake SQL. */
export function etlLake(lake: EventLake): EtlLake {
  return {
    lake,
    ddl: athenaLakeDdl({
      tables: lake.url(LAKE_PREFIXES.tables),
      staging: lake.url(LAKE_PREFIXES.staging),
      profiles: lake.url(LAKE_PREFIXES.profiles),
    }),
    loads: Object.fromEntries(LAKE_TABLES.map((t) => [t, readLakeQuery(LAKE_SQL, `load/${t}`)])),
    outputs: Object.fromEntries(LAKE_OUTPUTS.map((o) => [o, readLakeQuery(LAKE_SQL, o)])),
  };
}

/**
 * Step 2 of the framework: the ETL functions and the daily state machine that turns raw events and
 * the account table into features and a training snapshot. Stateless: everything it writes lives in
 * the data stack.
 */
export class EtlStack extends Stack {
  public readonly pipeline: EtlPipeline;
  public readonly notifications: sns.Topic;
  public readonly accountsImport: DatabaseFunction;

  constructor(scope: Construct, id: string, props: EtlStackProps) {
    super(scope, id, props);
    const { design, profile } = props.config;
    const { database, policy, lake } = props;
    const { data } = props;
    const artifacts = data.artifacts.bucket;
    const network = { vpc: props.network.vpc, subnets: props.network.isolatedSubnets };
    const common = { logRetention: profile.logRetention, logRemovalPolicy: profile.removalPolicy };

    // What every ETL function that talks to the account database shares: the design's SQL beside it.
    const inDatabase = {
      database,
      network,
      timeout: Duration.minutes(15),
      memorySizeMb: 1024,
      assetFolders: { sql: 'sql/artist-recommender' },
      ...common,
    };
    const migrate = new DatabaseFunction(this, 'Migrate', {
      ...inDatabase,
      handlerFolder: 'platform/db-migrate',
      description: 'Applies the versioned SQL schema',
      environment: {},
    });
    const transform = new DatabaseFunction(this, 'Transform', {
      ...inDatabase,
      handlerFolder: 'artist-recommender/event-transform',
      description: 'Validates, normalises and loads one raw object',
      environment: {
        RAW_BUCKET: data.rawEvents.bucket.bucketName,
        QUARANTINE_PREFIX: 'quarantine/',
        ...(lake
          ? {
              EVENT_STORE: 'lake',
              LAKE_BUCKET: lake.bucket.bucketName,
              LAKE_STAGING_PREFIX: LAKE_PREFIXES.staging,
            }
          : {}),
      },
    });
    data.rawEvents.bucket.grantRead(transform.function, 'raw/*');
    data.rawEvents.bucket.grantPut(transform.function, 'quarantine/*');
    lake?.bucket.grantPut(transform.function, `${LAKE_PREFIXES.staging}*`);
    const features = new DatabaseFunction(this, 'Features', {
      ...inDatabase,
      handlerFolder: 'artist-recommender/features',
      description: 'Rebuilds the feature tables in SQL',
      environment: {
        K_ANONYMITY: String(policy.kAnonymity),
        HALF_LIFE_DAYS: String(policy.favouritesHalfLifeDays),
        ...(lake
          ? { LAKE_BUCKET: lake.bucket.bucketName, LAKE_PROFILES_PREFIX: LAKE_PREFIXES.profiles }
          : {}),
      },
    });
    lake?.bucket.grantPut(features.function, `${LAKE_PREFIXES.profiles}*`);
    const snapshot = new DatabaseFunction(this, 'Snapshot', {
      ...inDatabase,
      handlerFolder: 'artist-recommender/snapshot',
      description: 'Exports the k-anonymous training snapshot',
      environment: {
        K_ANONYMITY: String(policy.kAnonymity),
        SNAPSHOT_BUCKET: artifacts.bucketName,
        SNAPSHOT_PREFIX: ARTIFACT_PREFIXES.snapshots,
        SNAPSHOT_PUBLISH_PREFIX: ARTIFACT_PREFIXES.trainChannel.replace(/train\/$/, ''),
      },
      // The snapshot's files are written to /tmp before they are uploaded.
      ephemeralStorage: Size.gibibytes(profile.name === 'production' ? 10 : 2),
    });
    artifacts.grantReadWrite(snapshot.function, 'training/*');
    lake?.bucket.grantRead(snapshot.function, `${LAKE_PREFIXES.outputs}*`);
    this.accountsImport = new DatabaseFunction(this, 'AccountsImport', {
      ...inDatabase,
      handlerFolder: 'artist-recommender/accounts-import',
      description: 'Upserts an accounts CSV',
      environment: {},
    });
    data.rawEvents.bucket.grantRead(this.accountsImport.function, 'accounts/*');
    for (const fn of [transform, features, snapshot, this.accountsImport])
      data.key.grantEncryptDecrypt(fn.function);

    // Outside the VPC: the Feature Store's runtime API is public, and a VPC endpoint for it would
    // cost more than the ingestion itself.
    const featureStoreIngest = new BundledFunction(this, 'FeatureStoreIngest', {
      handlerFolder: 'artist-recommender/feature-store-ingest',
      description: 'Writes the snapshot user features into the Feature Store',
      timeout: Duration.minutes(15),
      environment: {
        FEATURE_GROUP_NAME: props.userFeatures.featureGroupName,
        POWERTOOLS_SERVICE_NAME: 'feature-store-ingest',
      },
      ...common,
    });
    props.userFeatures.grantIngest(featureStoreIngest.function);
    artifacts.grantRead(featureStoreIngest.function, 'training/*');
    data.key.grantDecrypt(featureStoreIngest.function);

    this.notifications = new sns.Topic(this, 'Notifications', {
      displayName: `${design.id} ETL`,
      masterKey: data.key,
      enforceSSL: true,
    });
    this.pipeline = new EtlPipeline(this, 'Etl', {
      functions: {
        migrate: migrate.function,
        transform: transform.function,
        features: features.function,
        snapshot: snapshot.function,
        featureStoreIngest: featureStoreIngest.function,
      },
      rawEvents: data.rawEvents.bucket,
      results: { bucket: artifacts, prefix: ARTIFACT_PREFIXES.etlResults },
      snapshotBucket: artifacts,
      kAnonymity: policy.kAnonymity,
      favouritesHalfLifeDays: policy.favouritesHalfLifeDays,
      validationDays: policy.validationDays,
      maxConcurrency: profile.name === 'production' ? 40 : 5,
      notifications: this.notifications,
      scheduleEnabled: profile.data.etlScheduleEnabled,
      lake: lake && etlLake(lake),
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
    });
    data.key.grantEncryptDecrypt(this.pipeline.stateMachine);
    lake?.grantQueries(this.pipeline.stateMachine);

    new CfnOutput(this, 'EtlStateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AccountsImportFunctionName', { value: this.accountsImport.function.functionName });
  }
}
