import { Aws, CfnMapping, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Fact, FactName, RegionInfo } from 'aws-cdk-lib/region-info';
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

/**
 * Regions whose DLC registry account AWS's region table lists but aws-cdk-lib's region facts
 * (2.276, `FactName.DLC_REPOSITORY_ACCOUNT`) do not have yet. The table, "Region Availability" of
 * the Deep Learning Containers documentation,
 * https://aws.github.io/deep-learning-containers/reference/region_availability/, lists 37 regions;
 * every account the facts have for them is the table's. Only regions the facts lack belong here (a
 * test fails once aws-cdk-lib adds one, so the entry can go).
 */
export const DLC_ACCOUNTS_MISSING_FROM_FACTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-northeast-3': '364406365360',
  'ap-southeast-5': '550225433462',
  'ap-southeast-7': '590183813437',
  'ca-west-1': '204538143572',
  'il-central-1': '780543022126',
  'mx-central-1': '637423239942',
};

/** The DLC registry account of every region known: aws-cdk-lib's facts, then the regions they lack. */
export function dlcRegistryAccounts(): Readonly<Record<string, string>> {
  return { ...DLC_ACCOUNTS_MISSING_FROM_FACTS, ...RegionInfo.regionMap(FactName.DLC_REPOSITORY_ACCOUNT) };
}

/** The DLC registry account of `region`, or undefined where none is known. */
export function dlcRegistryAccount(region: string): string | undefined {
  return Fact.find(region, FactName.DLC_REPOSITORY_ACCOUNT) ?? DLC_ACCOUNTS_MISSING_FROM_FACTS[region];
}

export type DlcRepository = 'pytorch-training' | 'pytorch-inference';

/**
 * A Deep Learning Container image in the DLC registry of the stack's region. With a concrete region
 * the account is written into the template, and a region without a DLC registry fails the synth;
 * with an environment-agnostic stack it is resolved at deploy time from a template mapping of every
 * known region (no lookup, no credentials at synth), and a region missing from it fails the deploy
 * on the mapping, naming the region.
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
    const stack = Stack.of(scope);
    return `${registryAccount(stack)}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${this.repository}:${this.tag}`;
  }

  /**
   * Lets `grantee` pull this image. The repository lives in the DLC account of the region, not the
   * deploying account: a grant scoped to the own account would deny the pull.
   */
  grantPull(scope: Construct, grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(scope);
    const pull = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      resourceArns: [
        `arn:${stack.partition}:ecr:${stack.region}:${registryAccount(stack)}:repository/${this.repository}`,
      ],
    });
    // GetAuthorizationToken has no resource-level permission.
    return pull.combine(
      iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] }),
    );
  }
}

/** The id of the per-stack mapping of region to DLC account. */
const MAPPING_ID = 'DlcRegistryAccounts';

/** The region's DLC account: a literal for a concrete region, else from one mapping per stack. */
function registryAccount(stack: Stack): string {
  if (!Token.isUnresolved(stack.region)) {
    const account = dlcRegistryAccount(stack.region);
    if (account === undefined) {
      throw new Error(
        `No Deep Learning Containers registry is known in ${stack.region} (stack ${stack.node.path}): ` +
          "neither aws-cdk-lib's region facts nor DLC_ACCOUNTS_MISSING_FROM_FACTS name one; see " +
          'https://aws.github.io/deep-learning-containers/reference/region_availability/',
      );
    }
    return account;
  }
  const mapping =
    (stack.node.tryFindChild(MAPPING_ID) as CfnMapping | undefined) ??
    new CfnMapping(stack, MAPPING_ID, {
      mapping: Object.fromEntries(
        Object.entries(dlcRegistryAccounts())
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([region, account]) => [region, { account }]),
      ),
    });
  return mapping.findInMap(Aws.REGION, 'account');
}
