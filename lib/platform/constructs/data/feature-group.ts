import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { uniqueRetainedName } from './stack-unique-suffix';

/** One feature of the group: its name and SageMaker type. */
export interface FeatureDefinition {
  readonly name: string;
  readonly type: 'String' | 'Integral' | 'Fractional';
}

/** A feature group whose online store a function can read: built here, or imported by name. */
export interface IOnlineFeatureGroup {
  readonly featureGroupName: string;
  /**
   * Lets `grantee` read records from the online store: GetRecord and BatchGetRecord on this group
   * (BatchGetRecord is authorised per group it names,
   * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html),
   * and decryption with the store's key when it has a customer managed one
   * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_OnlineStoreSecurityConfig.html).
   */
  grantReadOnline(grantee: iam.IGrantable): iam.Grant;
}

export interface FeatureGroupProps {
  /** What the group holds; changing it replaces the group. */
  readonly description: string;
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
 * A SageMaker Feature Store group: an online store for lookups at inference time and an offline
 * store in S3 for training, both encrypted with the data key.
 */
export class FeatureGroup extends Construct implements IOnlineFeatureGroup {
  /**
   * A group this app did not build, by name.
   * @param onlineStoreKey its online store's customer managed key; omit it for an AWS owned key
   */
  public static fromFeatureGroupName(
    scope: Construct,
    featureGroupName: string,
    onlineStoreKey?: kms.IKey,
  ): IOnlineFeatureGroup {
    const featureGroupArn = Stack.of(scope).formatArn({
      service: 'sagemaker',
      resource: 'feature-group',
      resourceName: featureGroupName,
    });
    return {
      featureGroupName,
      grantReadOnline: (grantee) => readOnlineGrant(grantee, featureGroupArn, onlineStoreKey),
    };
  }

  public readonly featureGroup: sagemaker.CfnFeatureGroup;
  public readonly featureGroupName: string;
  public readonly featureGroupArn: string;
  private readonly onlineStoreKey: kms.IKey;

  constructor(scope: Construct, id: string, props: FeatureGroupProps) {
    super(scope, id);
    this.onlineStoreKey = props.key;
    const names = props.features.map((f) => f.name);
    for (const required of [props.recordIdentifier, props.eventTime]) {
      if (!names.includes(required)) {
        throw new Error(`FeatureGroup ${id}: ${required} is not one of its features (${names.join(', ')})`);
      }
    }
    if (new Set(names).size !== names.length) {
      throw new Error(`FeatureGroup ${id}: a feature name appears twice (${names.join(', ')})`);
    }
    const offlineRole = new iam.Role(this, 'OfflineStoreRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Feature Store: writes the offline store',
    });
    props.bucket.grantReadWrite(offlineRole, `${props.offlinePrefix}*`);
    // The offline store's writes may carry the bucket-owner-full-control ACL: AWS's own policy for
    // the role, AmazonSageMakerFeatureStoreAccess, grants s3:PutObjectAcl and s3:GetBucketAcl
    // (https://docs.aws.amazon.com/sagemaker/latest/dg/security-iam-awsmanpol-feature-store.html),
    // and a PutObject that sets an ACL needs s3:PutObjectAcl
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). With ACLs disabled on the
    // bucket (BucketOwnerEnforced, the S3 default) that ACL is accepted and changes nothing, and any
    // other ACL is refused (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html):
    // granting it, on the offline prefix only, cannot widen access. s3:GetBucketAcl comes with the
    // read grant above (s3:GetBucket*).
    props.bucket.grantPutAcl(offlineRole, `${props.offlinePrefix}*`);
    props.key.grantEncryptDecrypt(offlineRole);

    // The group is retained in production and its name is required: the stack suffix keeps the next
    // deploy after a destroy from colliding with the retained group ("already exists"). Lower case:
    // SageMaker writes resource names in lower case in ARNs, which IAM compares exactly.
    this.featureGroup = new sagemaker.CfnFeatureGroup(this, 'Resource', {
      featureGroupName: uniqueRetainedName(this, 64),
      description: props.description,
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
    // Ref is the group's name: one value that other stacks import whole.
    this.featureGroupName = this.featureGroup.ref;
    this.featureGroupArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'feature-group',
      resourceName: this.featureGroupName,
    });
    this.featureGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
  }

  /** Lets `grantee` write records. */
  public grantIngest(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:PutRecord'],
      resourceArns: [this.featureGroupArn],
    });
  }

  public grantReadOnline(grantee: iam.IGrantable): iam.Grant {
    return readOnlineGrant(grantee, this.featureGroupArn, this.onlineStoreKey);
  }
}

function readOnlineGrant(grantee: iam.IGrantable, featureGroupArn: string, key?: kms.IKey): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['sagemaker:GetRecord', 'sagemaker:BatchGetRecord'],
    resourceArns: [featureGroupArn],
  });
  return key ? grant.combine(key.grantDecrypt(grantee)) : grant;
}
