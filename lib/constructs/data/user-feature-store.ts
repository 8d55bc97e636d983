import { Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';

/** One feature of the group: its name and SageMaker type. */
export interface FeatureDefinition {
  readonly name: string;
  readonly type: 'String' | 'Integral' | 'Fractional';
}

export interface UserFeatureStoreProps {
  readonly features: readonly FeatureDefinition[];
  readonly recordIdentifier: string;
  readonly eventTime: string;
  readonly bucket: s3.IBucket;
  /** Prefix of the offline store in `bucket`. */
  readonly offlinePrefix: string;
  readonly key: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A SageMaker Feature Store group of user features: an online store for lookups at inference time
 * and an offline store in S3 for training, both encrypted with the data key.
 */
export class UserFeatureStore extends Construct {
  public readonly featureGroup: sagemaker.CfnFeatureGroup;
  public readonly featureGroupName: string;

  constructor(scope: Construct, id: string, props: UserFeatureStoreProps) {
    super(scope, id);
    const offlineRole = new iam.Role(this, 'OfflineStoreRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Feature Store: writes the offline store',
    });
    props.bucket.grantReadWrite(offlineRole, `${props.offlinePrefix}*`);
    props.key.grantEncryptDecrypt(offlineRole);

    // Lower case: SageMaker writes resource names in lower case in ARNs, which IAM compares exactly.
    this.featureGroupName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).toLowerCase();
    this.featureGroup = new sagemaker.CfnFeatureGroup(this, 'Resource', {
      featureGroupName: this.featureGroupName,
      description: 'User features: age group, k-anonymous location, favourite artists and songs',
      recordIdentifierFeatureName: props.recordIdentifier,
      eventTimeFeatureName: props.eventTime,
      featureDefinitions: props.features.map((f) => ({ featureName: f.name, featureType: f.type })),
      // These two properties are untyped JSON in CloudFormation's schema: CloudFormation's casing.
      onlineStoreConfig: { EnableOnlineStore: true, SecurityConfig: { KmsKeyId: props.key.keyArn } },
      offlineStoreConfig: {
        S3StorageConfig: {
          S3Uri: props.bucket.s3UrlForObject(props.offlinePrefix),
          KmsKeyId: props.key.keyArn,
        },
        DisableGlueTableCreation: true,
      },
      roleArn: offlineRole.roleArn,
    });
    this.featureGroup.node.addDependency(offlineRole);
    this.featureGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
  }

  /** Lets `grantee` write records. */
  public grantIngest(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:PutRecord'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'sagemaker',
          resource: 'feature-group',
          resourceName: this.featureGroupName,
        }),
      ],
    });
  }
}
