import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCdkProviderRuntime } from '../../nag/acknowledge-cdk-provider-runtime';
import { acknowledgeLambdaBasicExecution } from '../../nag/acknowledge-lambda-basic-execution';

export interface StagedModelDataProps {
  /** The `model.tar.gz` to stage, as a file asset (its key in the assets bucket ends in `.gz`). */
  readonly source: s3assets.Asset;
  /** The bucket SageMaker reads the model from. */
  readonly bucket: s3.IBucket;
  /**
   * Where the object goes: `<keyPrefix><asset hash>/model.tar.gz`. Relative, ending in `/`.
   */
  readonly keyPrefix: string;
  /**
   * The key the bucket encrypts objects with; the copy writes through it.
   * @default - the bucket's own `encryptionKey`, or none where it has none
   */
  readonly encryptionKey?: kms.IKey;
  /** Retention of the copy's log. @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** What `cdk destroy` does to that log. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A model archive copied at deploy time from its file asset into the bucket SageMaker reads models
 * from, under a `.tar.gz` key: `ModelDataUrl` must name a gzip-compressed tar archive with that
 * suffix, and an asset's key ends in `.gz`. The key carries the asset's hash, so a changed archive is
 * a new object (and a new model) while an unchanged one copies nothing.
 *
 * The copy is an `AwsCustomResource`, hoisted as this construct's `Default` child, and its log group
 * is created beside this construct in its scope as `<id>Logs`: both keep the logical IDs they had
 * when a stack built them, which CloudFormation must not see change.
 */
export class StagedModelData extends Construct {
  /** The bucket that holds the staged object. */
  public readonly bucket: s3.IBucket;
  /** The staged object's key, ending in `model.tar.gz`. */
  public readonly key: string;
  /** The copy's log. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StagedModelDataProps) {
    super(scope, id);
    const problems = stagedModelDataProblems(props);
    if (problems.length > 0) {
      throw new Error(`Invalid StagedModelData ${this.node.path}:\n  - ${problems.join('\n  - ')}`);
    }
    const { source, bucket } = props;
    this.bucket = bucket;
    this.key = `${props.keyPrefix}${source.assetHash}/model.tar.gz`;
    const encryptionKey = props.encryptionKey ?? bucket.encryptionKey;
    const copy: cr.AwsSdkCall = {
      service: 'S3',
      action: 'copyObject',
      parameters: {
        Bucket: bucket.bucketName,
        Key: this.key,
        CopySource: `${source.s3BucketName}/${source.s3ObjectKey}`,
      },
      physicalResourceId: cr.PhysicalResourceId.of(this.key),
    };
    this.logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    new cr.AwsCustomResource(this, 'Default', {
      onCreate: copy,
      onUpdate: copy,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [source.bucket.arnForObjects(source.s3ObjectKey)],
        }),
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(this.key)] }),
        ...(encryptionKey
          ? [
              new iam.PolicyStatement({
                actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
                resources: [encryptionKey.keyArn],
              }),
            ]
          : []),
      ]),
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
      logGroup: this.logGroup,
    });
    // The function behind every AwsCustomResource of a stack is one singleton, made by the first.
    const provider = Stack.of(this).node.findChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    acknowledgeLambdaBasicExecution(provider);
    acknowledgeCdkProviderRuntime(provider);
  }
}

/** Every problem of `props`, each naming its field. */
export function stagedModelDataProblems(props: StagedModelDataProps): string[] {
  const problems: string[] = [];
  const segments = props.keyPrefix.split('/');
  const last = segments.pop();
  if (last !== '' || segments.length === 0 || segments.some((s) => s === '' || s === '.' || s === '..')) {
    problems.push(
      `keyPrefix: a relative key prefix ending in '/', without empty, '.' or '..' segments, got ${JSON.stringify(props.keyPrefix)}`,
    );
  }
  return problems;
}
