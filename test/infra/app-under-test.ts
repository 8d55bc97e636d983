import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addBlueprintStacks, type BlueprintStacks } from '../../lib/blueprint';
import { resolveAppConfig, type AppConfig } from '../../lib/config/app-config';
import type { ProfileName } from '../../lib/config/profile';
import { DESIGNS } from '../../lib/designs';

export interface AppUnderTest {
  readonly app: App;
  readonly config: AppConfig;
  readonly stacks: BlueprintStacks;
  readonly network: Template;
  readonly serving: Template;
}

const built = new Map<ProfileName, AppUnderTest>();

/**
 * The whole app as `cdk synth` builds it for a profile, synthesized once per test file: bundling
 * and cdk-nag make a synth take seconds.
 */
export function appUnderTest(profile: ProfileName = 'sandbox'): AppUnderTest {
  const cached = built.get(profile);
  if (cached) return cached;
  const app = new App({ context: { profile } });
  const config = resolveAppConfig({ profile }, DESIGNS);
  const stacks = addBlueprintStacks(app, config);
  const result = {
    app,
    config,
    stacks,
    network: Template.fromStack(stacks.network),
    serving: Template.fromStack(stacks.serving),
  };
  built.set(profile, result);
  return result;
}
