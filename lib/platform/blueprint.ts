import { Aspects, Tags, Validations, type App, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from './config/app-config';
import { METRICS_NAMESPACE_CONTEXT } from './constructs/compute/bundled-function';
import { FunctionLogGroups } from './constructs/compute/function-log-groups';
import { acknowledgeGrantWildcards } from './nag/acknowledge-grant-wildcards';
import { BLUEPRINT_WILDCARDS } from './nag/blueprint-wildcards';
import { BlueprintRulesPlugin } from './rules';
import { AccountStack } from './stacks/account-stack';
import { ServingStack, metricsNamespace } from './stacks/serving-stack';

/** The stack of account-wide settings every design and profile shares. */
export const ACCOUNT_STACK_ID = 'MlSystemBlueprint-Account';

/**
 * Builds the chosen design's stacks (the design composes them from the platform's) and the shared
 * account stack, tags everything with the design and the profile, and puts the whole app under
 * cdk-nag and the blueprint's own rules.
 */
export function addBlueprintStacks(app: App, config: AppConfig): readonly Stack[] {
  app.node.setContext(METRICS_NAMESPACE_CONTEXT, metricsNamespace(config.design.id));
  const designStacks = config.design.addStacks(app, config);
  // Account-wide settings, shared by every design and profile (API Gateway's logging role).
  const account = new AccountStack(app, ACCOUNT_STACK_ID, {
    description: 'ML system design blueprint: account-wide settings shared by every design',
  });
  for (const stack of designStacks) {
    if (stack instanceof ServingStack) {
      stack.addStackDependency(account, 'REST API stages log only once the account has a CloudWatch role');
    }
  }
  const stacks = [account, ...designStacks];

  // Scalable targets take no tags in every region's CloudFormation schema yet.
  const tagOptions = { excludeResourceTypes: ['AWS::ApplicationAutoScaling::ScalableTarget'] };
  Tags.of(app).add('blueprint:design', config.design.id, tagOptions);
  Tags.of(app).add('blueprint:profile', config.profile.name, tagOptions);
  for (const stack of stacks) acknowledgeGrantWildcards(stack, BLUEPRINT_WILDCARDS);
  // Functions aws-cdk-lib creates for its own custom resources log to a group of ours too.
  Aspects.of(app).add(
    new FunctionLogGroups({
      retention: config.profile.logRetention,
      removalPolicy: config.profile.removalPolicy,
    }),
  );
  // cdk-nag for general practice; our rules for what AWS documents in prose and neither cdk-nag nor
  // cfn-lint checks (lib/platform/rules/, each rule with its document).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new BlueprintRulesPlugin());
  return stacks;
}
