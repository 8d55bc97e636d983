import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { Profile } from '../config/profile';
import { AccountDatabase } from '../constructs/data/account-database';
import { EventIngestion, RAW_EVENTS_PREFIX } from '../constructs/data/event-ingestion';
import { EventLake } from '../constructs/data/event-lake';
import { FeatureGroup, type FeatureDefinition } from '../constructs/data/feature-group';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { AlarmTopic } from '../constructs/monitoring/alarm-topic';
import type { PrivateNetwork } from '../constructs/network/private-network';
import { SecureBucket } from '../constructs/storage/secure-bucket';

/** A Feature Store group the design keeps, from its feature contract. */
export interface FeatureGroupSpec {
  /** Construct id; part of the logical ID, so renaming it replaces the group. */
  readonly id: string;
  readonly description: string;
  readonly features: readonly FeatureDefinition[];
  readonly recordIdentifier: string;
  readonly eventTime: string;
}

export interface DataStackProps extends StackProps {
  readonly profile: Profile;
  readonly network: PrivateNetwork;
  /** Whether the design keeps an account table (PII) in Aurora PostgreSQL. */
  readonly accountDatabase: boolean;
  /** The design's Feature Store groups. @default - none */
  readonly featureGroups?: readonly FeatureGroupSpec[];
  /** Whether the design builds its event features on the event lake (`chooseFeatureEngine`). @default false */
  readonly eventLake?: boolean;
}

/**
 * The stateful layer, which outlives the stacks that compute with it: the data key; raw events
 * (Firehose into their own bucket); the account database (PII), where the design has one; the
 * artefacts bucket (training snapshots, models, checkpoints, captured traffic, the offline feature
 * store); the design's Feature Store groups.
 */
export class DataStack extends Stack {
  public readonly key: kms.Key;
  public readonly artifacts: SecureBucket;
  public readonly rawEvents: SecureBucket;
  public readonly ingestion: EventIngestion;
  /** Set where the design keeps accounts. */
  public readonly database?: AccountDatabase;
  /** The design's feature groups by id. */
  public readonly featureGroups: Readonly<Record<string, FeatureGroup>>;
  /** The topic every alarm of the deployment notifies (see AlarmTopic for why it lives here). */
  public readonly alarms: AlarmTopic;
  /** Set where the design builds its event features on the lake. */
  public readonly lake?: EventLake;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { profile } = props;
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts events, accounts, training data, model artefacts and captured inference traffic',
      enableKeyRotation: true,
      removalPolicy: profile.removalPolicy,
      // A destroyed sandbox key waits the minimum before deletion; production keeps its key.
      pendingWindow: Duration.days(7),
    });
    this.alarms = new AlarmTopic(this, 'Alarms', { key: this.key });
    this.artifacts = new SecureBucket(this, 'Artifacts', {
      encryptionKey: this.key,
      removalPolicy: profile.removalPolicy,
      versioned: profile.name === 'production',
      expirations: {
        [ARTIFACT_PREFIXES.checkpoints]: 7,
        [ARTIFACT_PREFIXES.dataCapture]: profile.name === 'production' ? 90 : 14,
      },
    });
    this.rawEvents = new SecureBucket(this, 'RawEvents', {
      encryptionKey: this.key,
      removalPolicy: profile.removalPolicy,
      expirations: { [RAW_EVENTS_PREFIX]: profile.data.rawRetentionDays },
    });
    this.ingestion = new EventIngestion(this, 'Ingestion', {
      bucket: this.rawEvents.bucket,
      key: this.key,
      bufferingInterval: Duration.seconds(profile.data.ingestBufferSeconds),
      bufferingSize: Size.mebibytes(profile.data.ingestBufferMb),
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
    });

    if (props.accountDatabase) {
      const db = profile.data.database;
      // Database clients sign IAM tokens locally and never call Secrets Manager. Only the rotation
      // function, which runs in the VPC, does: the endpoint ($7.30 per AZ-month) exists where rotation is on.
      if (db.rotateCredentials) {
        props.network.addInterfaceEndpoint(
          'SecretsManager',
          ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        );
      }
      this.database = new AccountDatabase(this, 'Accounts', {
        vpc: props.network.vpc,
        subnets: props.network.isolatedSubnets,
        key: this.key,
        minCapacityAcu: db.minCapacityAcu,
        maxCapacityAcu: db.maxCapacityAcu,
        multiAz: db.multiAz,
        rotateCredentials: db.rotateCredentials,
        backupRetention: Duration.days(db.backupRetentionDays),
        protect: db.protect,
        logRetention: profile.logRetention,
        logRemovalPolicy: profile.removalPolicy,
      });
    }
    if (props.eventLake) {
      this.lake = new EventLake(this, 'Lake', {
        key: this.key,
        removalPolicy: profile.removalPolicy,
        ...profile.data.lake,
      });
      new CfnOutput(this, 'LakeBucketName', { value: this.lake.bucket.bucketName });
      new CfnOutput(this, 'LakeDatabaseName', { value: this.lake.databaseName });
      new CfnOutput(this, 'LakeWorkGroupName', { value: this.lake.workGroupName });
    }
    const groups: Record<string, FeatureGroup> = {};
    for (const spec of props.featureGroups ?? []) {
      groups[spec.id] = new FeatureGroup(this, spec.id, {
        description: spec.description,
        features: spec.features,
        recordIdentifier: spec.recordIdentifier,
        eventTime: spec.eventTime,
        bucket: this.artifacts.bucket,
        offlinePrefix: ARTIFACT_PREFIXES.featureStore,
        key: this.key,
        removalPolicy: profile.removalPolicy,
      });
      new CfnOutput(this, `${spec.id}GroupName`, { value: groups[spec.id].featureGroupName });
    }
    this.featureGroups = groups;

    new CfnOutput(this, 'RawEventsBucketName', { value: this.rawEvents.bucket.bucketName });
    new CfnOutput(this, 'ArtifactsBucketName', { value: this.artifacts.bucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DeliveryStreamName', { value: this.ingestion.deliveryStream.deliveryStreamName });
  }
}
