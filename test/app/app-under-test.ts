import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addBlueprintStacks } from '../../lib/platform/blueprint';
import { resolveAppConfig, type AppConfig } from '../../lib/platform/config/app-config';
import { PROFILE_NAMES, type ProfileName } from '../../lib/platform/config/profile';
import { DESIGNS } from '../../lib/designs';

/** Every registered design, for `describe.each`. */
export const DESIGN_IDS: readonly string[] = Object.keys(DESIGNS);

/** Every (design, profile) pair the app can be built as, for `describe.each`. */
export const DESIGNS_AND_PROFILES: readonly (readonly [string, ProfileName])[] = DESIGN_IDS.flatMap(
  (design) => PROFILE_NAMES.map((profile) => [design, profile] as const),
);

export interface AppUnderTest {
  readonly app: App;
  readonly config: AppConfig;
  readonly stacks: readonly Stack[];
  /** Each stack by its role, the last part of its id: `Network`, `Data`, `Ml`, `Serving`, `Pipeline`, `Account`... */
  readonly byRole: Readonly<Record<string, Stack>>;
  /** The template of the stack with that role; throws when the design has no such stack. */
  template(role: string): Template;
}

const CDK_JSON_CONTEXT = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/** An App with cdk.json's feature flags, as `cdk synth` builds it. */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON_CONTEXT, ...context } });
}

const built = new Map<string, AppUnderTest>();

/**
 * The whole app as `cdk synth -c design=... -c profile=...` builds it, synthesized once per test
 * file and pair: bundling and cdk-nag make a synth take seconds.
 */
export function appUnderTest(design: string, profile: ProfileName = 'sandbox'): AppUnderTest {
  const key = `${design}/${profile}`;
  const cached = built.get(key);
  if (cached) return cached;
  const app = newApp({ design, profile });
  const config = resolveAppConfig({ design, profile }, DESIGNS);
  const stacks = addBlueprintStacks(app, config);
  const byRole = Object.fromEntries(stacks.map((stack) => [stack.node.id.split('-').pop()!, stack]));
  const templates = new Map<string, Template>();
  const result: AppUnderTest = {
    app,
    config,
    stacks,
    byRole,
    template(role) {
      const stack = byRole[role];
      if (!stack) throw new Error(`${design} has no ${role} stack; it has ${Object.keys(byRole).join(', ')}`);
      if (!templates.has(role)) templates.set(role, Template.fromStack(stack));
      return templates.get(role)!;
    },
  };
  built.set(key, result);
  return result;
}
