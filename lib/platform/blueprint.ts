import { Aspects, Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from './config/app-config';
import { FunctionLogGroups } from './constructs/compute/function-log-groups';
import { acknowledgeGrantWildcards } from './nag/acknowledge-grant-wildcards';
import { BLUEPRINT_WILDCARDS } from './nag/blueprint-wildcards';
import { BlueprintRulesPlugin } from './rules';
import { AccountStack } from './stacks/account-stack';
import { DataStack } from './stacks/data-stack';
import { EtlStack } from '../designs/artist-recommender/etl-stack';
import { MlStack } from './stacks/ml-stack';
import { NetworkStack } from './stacks/network-stack';
import { PipelineStack } from './stacks/pipeline-stack';
import { ServingStack, metricsNamespace } from './stacks/serving-stack';

export interface BlueprintStacks {
  readonly account: AccountStack;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly etl: EtlStack;
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
    ...stackProps('data', 'events, accounts, features and artefacts'),
    profile: config.profile,
    network: network.network,
  });
  const etl = new EtlStack(app, `${prefix}-Etl`, {
    ...stackProps('etl', 'daily ETL: events and accounts to features and a training snapshot'),
    config,
    network: network.network,
    data,
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
    events: data.ingestion.deliveryStream,
    modelEndpoint: {
      endpointName: ml.endpoint.endpointName,
      endpointArn: ml.endpoint.endpointArn,
      variants: ml.endpoint.variants,
    },
  });
  // Account-wide settings, shared by every design and profile (API Gateway's logging role).
  const account = new AccountStack(app, 'MlSystemBlueprint-Account', {
    description: 'ML system design blueprint: account-wide settings shared by every design',
  });
  serving.addStackDependency(account, 'REST API stages log only once the account has a CloudWatch role');
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
  for (const stack of [account, network, data, etl, ml, serving, pipeline]) {
    acknowledgeGrantWildcards(stack, BLUEPRINT_WILDCARDS);
  }
  // Functions aws-cdk-lib creates for its own custom resources log to a group of ours too.
  Aspects.of(app).add(
    new FunctionLogGroups({
      retention: config.profile.logRetention,
      removalPolicy: config.profile.removalPolicy,
    }),
  );
  // cdk-nag for general practice; our rules for what AWS documents in prose and neither cdk-nag nor
  // cfn-lint checks (lib/rules/, each rule with its document).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new BlueprintRulesPlugin());
  return { account, network, data, etl, ml, serving, pipeline };
}
