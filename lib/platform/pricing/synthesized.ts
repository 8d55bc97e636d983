/**
 * Where the estimate's templates come from: an app built in-process (each resource then has its
 * construct path), or a cloud assembly `cdk synth` wrote (`cdk.out`: every `*.template.json`).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CfnResource, Stack, type App, type CfnElement } from 'aws-cdk-lib';
import { arrayProperty, objectProperty, type CfnTemplate, type StackTemplate } from './templates';

/** The templates of `stacks`, synthesized with their app, each resource with its construct path. */
export function stackTemplates(app: App, stacks: readonly Stack[]): StackTemplate[] {
  const assembly = app.synth();
  return stacks.map((stack) => {
    const paths = new Map<string, string>();
    for (const construct of stack.node.findAll()) {
      if (!CfnResource.isCfnResource(construct) || Stack.of(construct) !== stack) continue;
      const path = construct.node.path.slice(stack.node.path.length + 1);
      paths.set(stack.resolve((construct as CfnElement).logicalId) as string, path);
    }
    // Named by artifact, as cdk synth names the template files, so both sources name stacks alike.
    return { name: stack.artifactId, template: assembly.getStackArtifact(stack.artifactId).template, paths };
  });
}

/** The templates of a cloud assembly folder; throws when it holds none. */
export function assemblyTemplates(dir: string): StackTemplate[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .sort();
  if (files.length === 0)
    throw new Error(`${dir} holds no *.template.json: synthesize first (npx cdk synth -o ${dir})`);
  return files.map((file) => ({
    name: file.slice(0, -'.template.json'.length),
    template: JSON.parse(readFileSync(join(dir, file), 'utf8')) as CfnTemplate,
  }));
}

/** The design and profile the templates were synthesized for, from the blueprint's tags. */
export function taggedDeployment(stacks: readonly StackTemplate[]): { design?: string; profile?: string } {
  const found: { design?: string; profile?: string } = {};
  for (const stack of stacks) {
    for (const resource of Object.values(stack.template.Resources ?? {})) {
      for (const tag of arrayProperty(resource.Properties?.Tags).map(objectProperty)) {
        if (tag.Key === 'blueprint:design' && typeof tag.Value === 'string') found.design ??= tag.Value;
        if (tag.Key === 'blueprint:profile' && typeof tag.Value === 'string') found.profile ??= tag.Value;
      }
      if (found.design && found.profile) return found;
    }
  }
  return found;
}
