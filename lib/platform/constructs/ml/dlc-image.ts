import { Aws, CfnMapping, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The AWS Deep Learning Container tags this blueprint runs, in one place. Training may run a newer
 * torch than inference: artefacts are plain state_dicts and JSON, never pickled classes.
 */
export const DLC_TAGS = {
  pytorchTrainingGpu: '2.8.0-gpu-py312-cu129-ubuntu22.04-sagemaker',
  pytorchInferenceCpu: '2.6.0-cpu-py312-ubuntu22.04-sagemaker',
  pytorchInferenceGpu: '2.6.0-gpu-py312-cu124-ubuntu22.04-sagemaker',
} as const;

/** The ECR account that publishes the DLCs in each region (SageMaker Python SDK's image URI config). */
export const DLC_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-east-2': '975050140332',
  'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '763104351884',
  'ap-south-2': '772153158452',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069',
  'ap-southeast-7': '590183813437',
  'ca-central-1': '763104351884',
  'ca-west-1': '204538143572',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
  'eu-central-1': '763104351884',
  'eu-central-2': '380420809688',
  'eu-north-1': '763104351884',
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-west-3': '763104351884',
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'mx-central-1': '637423239942',
  'sa-east-1': '763104351884',
  'us-east-1': '763104351884',
  'us-east-2': '763104351884',
  'us-gov-east-1': '446045086412',
  'us-gov-west-1': '442386744353',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
};

export type DlcRepository = 'pytorch-training' | 'pytorch-inference';

/**
 * A Deep Learning Container image, resolved per region at deploy time from a template mapping: no
 * lookup, no credentials at synth, one template for every region. In a region missing from the map
 * the deploy fails on the mapping, naming the region.
 */
export class DlcImage {
  static pytorchTrainingGpu(): DlcImage {
    return new DlcImage('pytorch-training', DLC_TAGS.pytorchTrainingGpu);
  }

  static pytorchInference(accelerator: 'cpu' | 'gpu'): DlcImage {
    return new DlcImage(
      'pytorch-inference',
      accelerator === 'gpu' ? DLC_TAGS.pytorchInferenceGpu : DLC_TAGS.pytorchInferenceCpu,
    );
  }

  private constructor(
    readonly repository: DlcRepository,
    readonly tag: string,
  ) {}

  /** The image URI in the stack's region. */
  imageUri(scope: Construct): string {
    return `${registryAccount(scope)}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.repository}:${this.tag}`;
  }

  /**
   * Lets `grantee` pull this image. The repository lives in the DLC account of the region, not the
   * deploying account: a grant scoped to the own account would deny the pull.
   */
  grantPull(scope: Construct, grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: [
          `arn:${Aws.PARTITION}:ecr:${Aws.REGION}:${registryAccount(scope)}:repository/${this.repository}`,
        ],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
  }
}

/** The region's DLC account, from one mapping per stack. */
function registryAccount(scope: Construct): string {
  const stack = Stack.of(scope);
  const id = 'DlcRegistryAccounts';
  const mapping =
    (stack.node.tryFindChild(id) as CfnMapping | undefined) ??
    new CfnMapping(stack, id, {
      mapping: Object.fromEntries(
        Object.entries(DLC_REGISTRY_ACCOUNTS).map(([region, account]) => [region, { account }]),
      ),
    });
  return mapping.findInMap(Aws.REGION, 'account');
}
