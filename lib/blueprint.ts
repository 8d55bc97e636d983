import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from './config/app-config';
import { ARTIFACT_PREFIXES } from './constructs/ml/artifact-layout';
import { acknowledgeGrantWildcards, GRANT_HELPER_WILDCARDS } from './nag/acknowledge-grant-wildcards';
import { DataStack } from './stacks/data-stack';
import { MlStack } from './stacks/ml-stack';
import { NetworkStack } from './stacks/network-stack';
import { PipelineStack } from './stacks/pipeline-stack';
import { ServingStack, metricsNamespace } from './stacks/serving-stack';

export interface BlueprintStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly ml: MlStack;
  readonly serving: ServingStack;
  readonly pipeline: PipelineStack;
}

/**
 * Composes one design's stacks, split by lifecycle, and puts the whole app under cdk-nag.
 * Stack names carry the design and the profile, so a sandbox and a production deployment of two
 * designs can share an account.
 */
export function addBlueprintStacks(app: App, config: AppConfig): BlueprintStacks {
  const prefix = `${metricsNamespace(config.design.id)}-${config.profile.name}`;
  const stackProps = (name: string, description: string) => ({
    stackName: `${prefix}-${name}`,
    description: `${config.design.summary}: ${description} (${config.profile.name})`,
  });
  const network = new NetworkStack(app, `${prefix}-Network`, {
    ...stackProps('network', 'private network'),
    profile: config.profile,
  });
  const data = new DataStack(app, `${prefix}-Data`, {
    ...stackProps('data', 'key and artefacts bucket'),
    profile: config.profile,
  });
  const ml = new MlStack(app, `${prefix}-Ml`, {
    ...stackProps('ml', 'model endpoint'),
    config,
    data,
  });
  const serving = new ServingStack(app, `${prefix}-Serving`, {
    ...stackProps('serving', 'cache, recommendation function and API'),
    config,
    network: network.network,
    modelEndpoint: {
      endpointName: ml.endpoint.endpointName,
      endpointArn: ml.endpoint.endpointArn,
      variants: ml.endpoint.variants,
    },
  });
  const pipeline = new PipelineStack(app, `${prefix}-Pipeline`, {
    ...stackProps('pipeline', 'training pipeline'),
    config,
    network: network.network,
    data,
    ml,
    serving,
  });

  // Scalable targets take no tags in every region's CloudFormation schema yet.
  const tagOptions = { excludeResourceTypes: ['AWS::ApplicationAutoScaling::ScalableTarget'] };
  Tags.of(app).add('blueprint:design', config.design.id, tagOptions);
  Tags.of(app).add('blueprint:profile', config.profile.name, tagOptions);
  for (const stack of [network, data, ml, serving, pipeline]) {
    acknowledgeGrantWildcards(stack, [
      ...GRANT_HELPER_WILDCARDS,
      {
        finding: new RegExp(
          `^Resource::.*/(${Object.values(ARTIFACT_PREFIXES)
            .map((p) => p.split('/')[0])
            .join('|')})/\\*$`,
        ),
        reason:
          'Objects under one prefix of the artefacts bucket: the layout in lib/constructs/ml/artifact-layout.ts.',
      },
      {
        finding:
          /^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:(training-job|model|endpoint-config)\/rec-\*$/,
        reason:
          'The pipeline names every job, model and endpoint config it creates rec-<uuid>; it may touch no others.',
      },
      {
        finding:
          /^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:(model-package\/[A-Za-z0-9-]+\/\*|endpoint-config\/\*)$/,
        reason:
          "Versions of the pipeline's own package group; endpoint configs are read to find the serving champion.",
      },
      {
        finding: /^Resource::.*Function[0-9A-F]{8}.*:\*$/,
        reason:
          'LambdaInvoke tasks may call the function and its versions (ARN:*), as aws-cdk-lib grants them.',
      },
    ]);
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { network, data, ml, serving, pipeline };
}
