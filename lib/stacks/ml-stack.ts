import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { BootstrapArtifacts } from '../constructs/ml/bootstrap-artifacts';
import { DlcImage } from '../constructs/ml/dlc-image';
import { ModelEndpoint, type EndpointHosting } from '../constructs/ml/model-endpoint';
import type { DataStack } from './data-stack';

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
    });

    new CfnOutput(this, 'EndpointName', { value: this.endpoint.endpointName });
  }
}
