import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from './config/app-config';
import { NetworkStack } from './stacks/network-stack';
import { ServingStack, metricsNamespace } from './stacks/serving-stack';

export interface BlueprintStacks {
  readonly network: NetworkStack;
  readonly serving: ServingStack;
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
  const serving = new ServingStack(app, `${prefix}-Serving`, {
    ...stackProps('serving', 'cache, recommendation function and API'),
    config,
    network: network.network,
  });

  Tags.of(app).add('blueprint:design', config.design.id);
  Tags.of(app).add('blueprint:profile', config.profile.name);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { network, serving };
}
