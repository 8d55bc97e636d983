/**
 * What an AWS call needs in IAM: the actions, the kind of resource they act on, and the KMS actions
 * the caller needs on the key of an encrypted target.
 *
 * Actions and resource types: the Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * (e.g. list_amazons3.html: ListObjectsV2 is authorized by s3:ListBucket on a bucket;
 * list_awslambda.html: Invoke by lambda:InvokeFunction; list_amazonsagemaker.html: the runtime's
 * InvokeEndpoint by sagemaker:InvokeEndpoint on an endpoint, the feature store runtime's PutRecord by
 * sagemaker:PutRecord on a feature group).
 */

/** Resource kinds as required patterns (see `requiredPattern`): `{segment}` is one ARN segment. */
export const KINDS = {
  s3Object: 'arn:{segment}:s3:::{segment}/{any}',
  s3Bucket: 'arn:{segment}:s3:::{segment}',
  secret: 'arn:{segment}:secretsmanager:{segment}:{segment}:secret:{any}',
  deliveryStream: 'arn:{segment}:firehose:{segment}:{segment}:deliverystream/{segment}',
  function: 'arn:{segment}:lambda:{segment}:{segment}:function:{any}',
  topic: 'arn:{segment}:sns:{segment}:{segment}:{segment}',
  stateMachine: 'arn:{segment}:states:{segment}:{segment}:stateMachine:{segment}',
  endpoint: 'arn:{segment}:sagemaker:{segment}:{segment}:endpoint/{segment}',
  featureGroup: 'arn:{segment}:sagemaker:{segment}:{segment}:feature-group/{segment}',
  dbUser: 'arn:{segment}:rds-db:{segment}:{segment}:dbuser:{any}',
  appConfigProfile:
    'arn:{segment}:appconfig:{segment}:{segment}:application/{segment}/environment/{segment}/configuration/{segment}',
  any: '{any}',
} as const;

/**
 * KMS actions a caller needs on the customer managed key of the resource it calls:
 * - S3 SSE-KMS, https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html:
 *   uploading needs kms:GenerateDataKey, downloading kms:Decrypt; a multipart upload both
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
 * - SNS, https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html: a publisher to an
 *   encrypted topic needs kms:GenerateDataKey* and kms:Decrypt on its key.
 * - Secrets Manager, https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html:
 *   GetSecretValue on a secret under a customer managed key needs kms:Decrypt.
 * - Feature Store, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_OnlineStoreSecurityConfig.html:
 *   "The caller (either user or IAM role) to all DataPlane operations (PutRecord, GetRecord,
 *   DeleteRecord) must have the following permissions to the KmsKeyId: kms:Decrypt".
 * - Firehose needs none from the producer: "Firehose invokes the AWS KMS operation CreateGrant to
 *   create a grant that allows the Firehose service to use the customer managed CMK"
 *   (https://docs.aws.amazon.com/firehose/latest/APIReference/API_DeliveryStreamEncryptionConfigurationInput.html).
 */
export const KMS_TO_READ = ['kms:Decrypt'];
export const KMS_TO_WRITE = ['kms:GenerateDataKey'];
export const KMS_TO_UPLOAD_IN_PARTS = ['kms:GenerateDataKey', 'kms:Decrypt'];
export const KMS_TO_PUBLISH = ['kms:GenerateDataKey', 'kms:Decrypt'];

export interface CallNeed {
  readonly action: string;
  /** A resource kind from `KINDS`, or a required ARN pattern. */
  readonly resource: string;
  /** KMS actions on the key of the encrypted resource the action reaches. */
  readonly kms?: readonly string[];
}

/** AWS SDK for JavaScript v3 values that call AWS, by module and exported name. */
const SDK_CALLS: Readonly<Record<string, Readonly<Record<string, readonly CallNeed[]>>>> = {
  '@aws-sdk/client-s3': {
    GetObjectCommand: [{ action: 's3:GetObject', resource: KINDS.s3Object, kms: KMS_TO_READ }],
    HeadObjectCommand: [{ action: 's3:GetObject', resource: KINDS.s3Object, kms: KMS_TO_READ }],
    PutObjectCommand: [{ action: 's3:PutObject', resource: KINDS.s3Object, kms: KMS_TO_WRITE }],
    CopyObjectCommand: [
      { action: 's3:GetObject', resource: KINDS.s3Object, kms: KMS_TO_READ },
      { action: 's3:PutObject', resource: KINDS.s3Object, kms: KMS_TO_WRITE },
    ],
    DeleteObjectCommand: [{ action: 's3:DeleteObject', resource: KINDS.s3Object }],
    DeleteObjectsCommand: [{ action: 's3:DeleteObject', resource: KINDS.s3Object }],
    ListObjectsV2Command: [{ action: 's3:ListBucket', resource: KINDS.s3Bucket }],
    CreateMultipartUploadCommand: [
      { action: 's3:PutObject', resource: KINDS.s3Object, kms: KMS_TO_UPLOAD_IN_PARTS },
    ],
    UploadPartCommand: [{ action: 's3:PutObject', resource: KINDS.s3Object, kms: KMS_TO_UPLOAD_IN_PARTS }],
    CompleteMultipartUploadCommand: [{ action: 's3:PutObject', resource: KINDS.s3Object }],
    AbortMultipartUploadCommand: [{ action: 's3:AbortMultipartUpload', resource: KINDS.s3Object }],
  },
  // Upload splits a body into CreateMultipartUpload, UploadPart, CompleteMultipartUpload, and
  // AbortMultipartUpload on failure: https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-aws-sdk-lib-storage/
  '@aws-sdk/lib-storage': {
    Upload: [
      { action: 's3:PutObject', resource: KINDS.s3Object, kms: KMS_TO_UPLOAD_IN_PARTS },
      { action: 's3:AbortMultipartUpload', resource: KINDS.s3Object },
    ],
  },
  '@aws-sdk/client-secrets-manager': {
    GetSecretValueCommand: [
      { action: 'secretsmanager:GetSecretValue', resource: KINDS.secret, kms: KMS_TO_READ },
    ],
  },
  '@aws-sdk/client-firehose': {
    PutRecordCommand: [{ action: 'firehose:PutRecord', resource: KINDS.deliveryStream }],
    PutRecordBatchCommand: [{ action: 'firehose:PutRecordBatch', resource: KINDS.deliveryStream }],
  },
  '@aws-sdk/client-sagemaker-featurestore-runtime': {
    PutRecordCommand: [{ action: 'sagemaker:PutRecord', resource: KINDS.featureGroup, kms: KMS_TO_READ }],
    GetRecordCommand: [{ action: 'sagemaker:GetRecord', resource: KINDS.featureGroup, kms: KMS_TO_READ }],
    BatchGetRecordCommand: [
      { action: 'sagemaker:BatchGetRecord', resource: KINDS.featureGroup, kms: KMS_TO_READ },
    ],
    DeleteRecordCommand: [
      { action: 'sagemaker:DeleteRecord', resource: KINDS.featureGroup, kms: KMS_TO_READ },
    ],
  },
  '@aws-sdk/client-sagemaker-runtime': {
    InvokeEndpointCommand: [{ action: 'sagemaker:InvokeEndpoint', resource: KINDS.endpoint }],
  },
  '@aws-sdk/client-lambda': {
    InvokeCommand: [{ action: 'lambda:InvokeFunction', resource: KINDS.function }],
  },
  '@aws-sdk/client-sfn': {
    StartExecutionCommand: [{ action: 'states:StartExecution', resource: KINDS.stateMachine }],
  },
  '@aws-sdk/client-sns': {
    PublishCommand: [{ action: 'sns:Publish', resource: KINDS.topic, kms: KMS_TO_PUBLISH }],
  },
  // Powertools' AppConfig provider starts a session and polls it, both authorized on the
  // `configuration` resource (an environment's profile):
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsappconfig.html
  '@aws-lambda-powertools/parameters/appconfig': {
    AppConfigProvider: [
      { action: 'appconfig:StartConfigurationSession', resource: KINDS.appConfigProfile },
      { action: 'appconfig:GetLatestConfiguration', resource: KINDS.appConfigProfile },
    ],
  },
  // An IAM authentication token for RDS is signed locally; the database checks rds-db:connect:
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
  '@aws-sdk/rds-signer': {
    Signer: [{ action: 'rds-db:connect', resource: KINDS.dbUser }],
  },
};

/** Service prefixes of SDK clients whose commands map one to one on `<prefix>:<Operation>`. */
const CLIENT_PREFIX: Readonly<Record<string, string>> = {
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-sagemaker': 'sagemaker',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-cloudformation': 'cloudformation',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-kms': 'kms',
};

/**
 * The IAM a value imported from an AWS SDK module needs: `[]` for values that call nothing (clients,
 * errors, types); an error for a command with no known mapping, so that new code extends the table.
 */
export function needsOfSdkValue(module: string, name: string): CallNeed[] {
  const known = SDK_CALLS[module]?.[name];
  if (known) return [...known];
  if (!name.endsWith('Command')) return [];
  const prefix = CLIENT_PREFIX[module];
  if (prefix) return [{ action: `${prefix}:${name.slice(0, -'Command'.length)}`, resource: KINDS.any }];
  throw new Error(`${module} ${name}: no IAM mapping; add it to test/support/iam/actions.ts`);
}

/**
 * Actions the Service Authorization Reference lists with no resource type: a statement may grant
 * them only on "*".
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html (Describe*)
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html (PutMetricData)
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html (the List actions)
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
 *   and https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html (the log delivery actions a
 *   state machine's logging needs, granted on "*")
 */
export const NO_RESOURCE_LEVEL_ACTIONS: readonly string[] = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeVpcs',
  'ec2:DescribeDhcpOptions',
  'ecr:GetAuthorizationToken',
  'cloudwatch:PutMetricData',
  'sagemaker:ListModels',
  'sagemaker:ListEndpointConfigs',
  'sagemaker:ListModelPackages',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];
