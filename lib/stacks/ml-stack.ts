import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import type { Profile } from '../config/profile';
import { CustomResourceHandler } from '../constructs/custom-resource-handler';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { BootstrapArtifacts } from '../constructs/ml/bootstrap-artifacts';
import { DlcImage } from '../constructs/ml/dlc-image';
import { ModelEndpoint, type EndpointHosting } from '../constructs/ml/model-endpoint';
import type { DataStack } from './data-stack';
import { TRAINING_JOB_LOG_GROUP } from '../../lambda/sagemaker-cleanup/names';

export interface MlStackProps extends StackProps {
  readonly config: AppConfig;
  readonly data: DataStack;
}

/**
 * The model endpoint, up and serving a bootstrap popularity model from the first deploy. The
 * training pipeline (its own stack) later rolls trained models onto it.
 */
export class MlStack extends Stack {
  public readonly endpoint: ModelEndpoint;
  public readonly hosting: EndpointHosting;
  public readonly inferenceImage: DlcImage;
  public readonly bootstrap: BootstrapArtifacts;
  /** Deletes what training runs created, on destroy; only where the profile destroys (the sandbox). */
  public readonly runCleanup?: CustomResourceHandler;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    super(scope, id, props);
    const { design, profile, capacity } = props.config;

    this.bootstrap = new BootstrapArtifacts(this, 'Bootstrap', {
      popularity: design.model.bootstrapPopularity,
      inferenceCode: design.model.inferenceCode,
    });
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
      initialModelData: {
        bucket: this.bootstrap.model.asset.bucket,
        key: this.bootstrap.model.asset.s3ObjectKey,
      },
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
   * The handler that, on destroy, deletes what training runs created outside CloudFormation: models,
   * endpoint configs and model package versions (named `<design>-<profile tag>-...`), and the runs' training log
   * streams. This stack's own resource runs once the endpoint is gone, not before: SageMaker says an
   * endpoint config in use by a live endpoint must not be deleted
   * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html). The
   * pipeline stack adds its resource for the registry.
   */
  private addRunCleanup(namePrefix: string, profile: Profile): CustomResourceHandler {
    const cleanup = new CustomResourceHandler(this, 'RunCleanup', {
      handlerFolder: 'sagemaker-cleanup',
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
          arn('logs', 'log-group', TRAINING_JOB_LOG_GROUP, ArnFormat.COLON_RESOURCE_NAME),
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
