import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct, IDependable } from 'constructs';
import type { AppConfig } from '../config/app-config';
import type { Profile } from '../config/profile';
import { CustomResourceHandler } from '../constructs/compute/custom-resource-handler';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { BootstrapModel } from '../constructs/ml/bootstrap-model';
import { DlcImage } from '../constructs/ml/dlc-image';
import { ModelEndpoint, type EndpointHosting } from '../constructs/ml/model-endpoint';
import type { DataStack } from './data-stack';
import { TRAINING_JOB_LOG_GROUP } from '../../../lambda/platform/sagemaker-cleanup/names';

/** The id aws-cdk-lib gives the AwsCustomResource provider singleton of a stack. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface MlStackProps extends StackProps {
  readonly config: AppConfig;
  readonly data: DataStack;
}

/**
 * The model endpoint, up and serving the design's bootstrap model from the first deploy. The
 * training pipeline (its own stack) later rolls trained models onto it.
 */
export class MlStack extends Stack {
  public readonly endpoint: ModelEndpoint;
  public readonly hosting: EndpointHosting;
  public readonly inferenceImage: DlcImage;
  /** The design's bootstrap model, packed as a `model.tar.gz` asset. */
  public readonly bootstrapModel: BootstrapModel;
  /** Deletes what training runs created, on destroy; only where the profile destroys (the sandbox). */
  public readonly runCleanup?: CustomResourceHandler;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    super(scope, id, props);
    const { design, profile, capacity } = props.config;

    this.bootstrapModel = new BootstrapModel(this, 'Bootstrap', { files: design.model.bootstrapModel() });
    const profileEndpoint = profile.endpoint;
    this.hosting =
      profileEndpoint.kind === 'serverless'
        ? profileEndpoint
        : {
            kind: 'instances',
            instanceType: profileEndpoint.instanceType,
            minInstances: capacity.endpointScaling!.minInstances,
            maxInstances: capacity.endpointScaling!.maxInstances,
            targetInvocationsPerInstancePerMinute:
              capacity.endpointScaling!.targetInvocationsPerInstancePerMinute,
          };
    this.inferenceImage = DlcImage.pytorchInference(this.hosting.kind === 'instances' ? 'gpu' : 'cpu');
    this.endpoint = new ModelEndpoint(this, 'Endpoint', {
      image: this.inferenceImage,
      initialModelData: this.stageBootstrapModel(props),
      // A serverless endpoint holds one variant: the A/B split needs instance hosting.
      variants:
        this.hosting.kind === 'serverless'
          ? [{ name: design.abVariants[0].name, weight: 1 }]
          : design.abVariants,
      hosting: this.hosting,
      dataCapture: {
        bucket: props.data.artifacts.bucket,
        prefix: ARTIFACT_PREFIXES.dataCapture,
        key: props.data.key,
      },
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    if (profile.removalPolicy === RemovalPolicy.DESTROY) {
      this.runCleanup = this.addRunCleanup(props.config.runNamePrefix, profile);
    }

    new CfnOutput(this, 'EndpointName', { value: this.endpoint.endpointName });
  }

  /**
   * Copies the bootstrap model into the artefacts bucket under a `.tar.gz` key: `ModelDataUrl` must
   * name a gzip-compressed tar archive with that suffix, and an asset's key ends in `.gz`. The key
   * carries the asset's hash, so a changed bootstrap model is a new object and a new model.
   */
  private stageBootstrapModel(props: MlStackProps): { bucket: s3.IBucket; key: string; ready: IDependable } {
    const asset = this.bootstrapModel.bundle.asset;
    const bucket = props.data.artifacts.bucket;
    const key = `${ARTIFACT_PREFIXES.models}bootstrap/${asset.assetHash}/model.tar.gz`;
    const copy: cr.AwsSdkCall = {
      service: 'S3',
      action: 'copyObject',
      parameters: {
        Bucket: bucket.bucketName,
        Key: key,
        CopySource: `${asset.s3BucketName}/${asset.s3ObjectKey}`,
      },
      physicalResourceId: cr.PhysicalResourceId.of(key),
    };
    const staged = new cr.AwsCustomResource(this, 'StageBootstrapModel', {
      onCreate: copy,
      onUpdate: copy,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
        }),
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(key)] }),
        // The artefacts bucket encrypts with the data key.
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.data.key.keyArn],
        }),
      ]),
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
      logGroup: new logs.LogGroup(this, 'StageBootstrapModelLogs', {
        retention: props.config.profile.logRetention,
        removalPolicy: props.config.profile.removalPolicy,
      }),
    });
    // The provider function is a stack-wide singleton created by the first AwsCustomResource.
    const provider = this.node.findChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The custom resource provider writes its own logs and nothing else.',
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The AwsCustomResource provider runtime is chosen by aws-cdk-lib; it runs once per deploy that changes the model.',
    });
    return { bucket, key, ready: staged };
  }

  /**
   * The handler that, on destroy, deletes what training runs created outside CloudFormation: models,
   * endpoint configs and model package versions (named `<design>-<profile tag>-...`), and the runs' training log
   * streams. This stack's own resource runs once the endpoint is gone, not before: SageMaker says an
   * endpoint config in use by a live endpoint must not be deleted
   * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html). The
   * pipeline stack adds its resource for the registry.
   */
  private addRunCleanup(namePrefix: string, profile: Profile): CustomResourceHandler {
    const cleanup = new CustomResourceHandler(this, 'RunCleanup', {
      handlerFolder: 'platform/sagemaker-cleanup',
      description:
        'On destroy: deletes the models, configs, packages and log streams that training runs created',
      timeout: Duration.minutes(10),
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    const arn = (service: string, resource: string, resourceName: string, arnFormat?: ArnFormat) =>
      this.formatArn({ service, resource, resourceName, arnFormat });
    cleanup.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // List actions take no resource ARN.
        actions: ['sagemaker:ListModels', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModelPackages'],
        resources: ['*'],
      }),
    );
    cleanup.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DeleteModel', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModelPackage'],
        resources: [
          arn('sagemaker', 'model', `${namePrefix}-*`),
          arn('sagemaker', 'endpoint-config', `${namePrefix}-*`),
          arn('sagemaker', 'model-package', `${namePrefix}-models-*/*`),
        ],
      }),
    );
    cleanup.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:DescribeLogStreams', 'logs:DeleteLogStream'],
        resources: [
          // Log-group ARNs end in `:*` in policies for every action but tagging
          // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
          arn('logs', 'log-group', `${TRAINING_JOB_LOG_GROUP}:*`, ArnFormat.COLON_RESOURCE_NAME),
          arn(
            'logs',
            'log-group',
            `${TRAINING_JOB_LOG_GROUP}:log-stream:${namePrefix}-*`,
            ArnFormat.COLON_RESOURCE_NAME,
          ),
        ],
      }),
    );
    const resource = cleanup.addResource(this, 'ModelsCleanup', 'SageMakerRunCleanup', {
      NamePrefix: namePrefix,
      ModelsAndEndpointConfigs: 'true',
      TrainingLogStreams: 'false',
    });
    // The endpoint depends on the cleanup, so CloudFormation deletes the endpoint first.
    this.endpoint.endpoint.node.addDependency(resource);
    return cleanup;
  }
}
