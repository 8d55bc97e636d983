import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addBlueprintStacks, type BlueprintStacks } from '../../lib/platform/blueprint';
import { resolveAppConfig, type AppConfig } from '../../lib/platform/config/app-config';
import type { ProfileName } from '../../lib/platform/config/profile';
import { DESIGNS } from '../../lib/designs';

export interface AppUnderTest {
  readonly app: App;
  readonly config: AppConfig;
  readonly stacks: BlueprintStacks;
  readonly network: Template;
  readonly data: Template;
  readonly etl: Template;
  readonly ml: Template;
  readonly serving: Template;
  readonly pipeline: Template;
}

const CDK_JSON_CONTEXT = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/** An App with cdk.json's feature flags, as `cdk synth` builds it. */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON_CONTEXT, ...context } });
}

const built = new Map<ProfileName, AppUnderTest>();

/**
 * The whole app as `cdk synth` builds it for a profile, synthesized once per test file: bundling
 * and cdk-nag make a synth take seconds.
 */
export function appUnderTest(profile: ProfileName = 'sandbox'): AppUnderTest {
  const cached = built.get(profile);
  if (cached) return cached;
  const app = newApp({ profile });
  const config = resolveAppConfig({ profile }, DESIGNS);
  const stacks = addBlueprintStacks(app, config);
  const result = {
    app,
    config,
    stacks,
    network: Template.fromStack(stacks.network),
    data: Template.fromStack(stacks.data),
    etl: Template.fromStack(stacks.etl),
    ml: Template.fromStack(stacks.ml),
    serving: Template.fromStack(stacks.serving),
    pipeline: Template.fromStack(stacks.pipeline),
  };
  built.set(profile, result);
  return result;
}
