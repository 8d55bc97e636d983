import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { DESIGNS } from '../../lib/designs';
import { addBlueprintStacks } from '../../lib/platform/blueprint';
import { resolveAppConfig, type AppConfig } from '../../lib/platform/config/app-config';
import type { ProfileName } from '../../lib/platform/config/profile';
import { estimate, type Estimate } from '../../lib/platform/pricing/estimate';
import { stackTemplates } from '../../lib/platform/pricing/synthesized';

/** A CloudFormation template as synthesized: only the parts the documentation reads. */
export interface CfnTemplate {
  readonly Description?: string;
  readonly Resources?: Readonly<Record<string, CfnResourceJson>>;
  readonly Outputs?: Readonly<
    Record<string, { readonly Value: unknown; readonly Export?: { readonly Name?: unknown } }>
  >;
}

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

/** One stack of a synthesized app with its template. */
export interface SynthesizedStack {
  /** Its layer, the last part of its id: `Network`, `Data`, `Ml`, `Serving`... */
  readonly role: string;
  readonly stack: Stack;
  readonly template: CfnTemplate;
}

export interface SynthesizedApp {
  readonly config: AppConfig;
  readonly stacks: readonly SynthesizedStack[];
  /** The cost estimate of its templates, as `npm run cost` makes it. */
  readonly estimate: Estimate;
}

const CDK_JSON = path.join(__dirname, '..', '..', 'cdk.json');

/** The role of a stack: the last part of its id (`<Design>-<profile>-<Role>`). */
export function stackRole(stack: Stack): string {
  return stack.node.id.split('-').pop()!;
}

/**
 * Every stack of `app` with its template. The app is synthesized here, which resolves cross-stack
 * references into the outputs and imports the templates hold.
 */
export function synthesizedStacks(app: App, stacks: readonly Stack[]): readonly SynthesizedStack[] {
  const assembly = app.synth();
  return stacks.map((stack) => ({
    role: stackRole(stack),
    stack,
    template: assembly.getStackArtifact(stack.artifactId).template as CfnTemplate,
  }));
}

const built = new Map<string, SynthesizedApp>();

/**
 * The app as `cdk synth -c design=<id> -c profile=<profile>` builds it (cdk.json's context, the
 * blueprint's stacks, cdk-nag and the blueprint's rules), in this process and once per pair.
 * Bundling is skipped: it changes asset hashes, which the documentation never shows, and not one
 * resource or reference.
 */
export function synthesizeDesign(designId: string, profile: ProfileName): SynthesizedApp {
  const key = `${designId}/${profile}`;
  const cached = built.get(key);
  if (cached) return cached;
  const context = JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')).context as Record<string, unknown>;
  // The assembly is only read here, while the templates are taken from it.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-synth-'));
  try {
    const app = new App({
      outdir,
      context: { ...context, design: designId, profile, [BUNDLING_STACKS]: [] },
    });
    const config = resolveAppConfig({ design: designId, profile }, DESIGNS);
    const added = addBlueprintStacks(app, config);
    const stacks = synthesizedStacks(app, added);
    // The same assembly: a synthesized app hands back the one it made.
    const result = { config, stacks, estimate: estimate(stackTemplates(app, added)) };
    built.set(key, result);
    return result;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
