import { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { SynthesizedStack } from '../synthesized-app';
import { findReferences, type TemplatesByStack } from './intrinsics';
import { isMachinery, NODE_TYPES } from './resource-kinds';

/** One CloudFormation resource of the app and the construct that made it. */
export interface ResourceEntry {
  readonly stack: string;
  readonly role: string;
  readonly logicalId: string;
  readonly type: string;
  /** Its construct path within the stack, split. */
  readonly path: readonly string[];
  /** It is CDK's machinery (`isMachinery`): never drawn, never connected. */
  readonly machinery: boolean;
}

/** Which node each resource belongs to; resources not in the map belong to none yet. */
export interface ConstructGroups {
  readonly resources: readonly ResourceEntry[];
  /** `stack/logicalId` -> node id, for resources that belong to a node. */
  readonly nodeOf: Map<string, string>;
  /** Node id -> the resource that makes it a node. */
  readonly nodeResource: ReadonlyMap<string, ResourceEntry>;
}

export const resourceKey = (stack: string, logicalId: string): string => `${stack}/${logicalId}`;

/** The L1 ids CDK gives the one resource an L2 wraps. */
const WRAPPED_IDS = new Set(['Resource', 'Default']);

/**
 * Groups the app's resources into nodes by construct path. A node is made by each resource of a
 * type in NODE_TYPES: it is the highest construct on the resource's path that holds no other such
 * resource (so `Serving/Ranking/Serving/Handler/Function/Resource` becomes `Serving/Ranking/Serving`
 * when `Ranking` also holds the cache). Every other resource joins the node of the nearest construct
 * above it that holds exactly one, or, where that construct holds several, the one it wraps
 * (`Resource`/`Default`). Buckets that only receive another bucket's access logs are not nodes.
 */
export function groupConstructs(
  stacks: readonly SynthesizedStack[],
  templates: TemplatesByStack,
): ConstructGroups {
  const resources = stacks.flatMap((synthesized) => resourcesOf(synthesized));
  const logBuckets = accessLogBuckets(stacks, templates);
  const isNodeType = (entry: ResourceEntry) =>
    !entry.machinery &&
    Object.hasOwn(NODE_TYPES, entry.type) &&
    !logBuckets.has(resourceKey(entry.stack, entry.logicalId));

  const nodeOf = new Map<string, string>();
  const nodeResource = new Map<string, ResourceEntry>();
  for (const synthesized of stacks) {
    const name = synthesized.stack.stackName;
    const inStack = resources.filter((entry) => entry.stack === name && !entry.machinery);
    const primaries = inStack.filter(isNodeType);
    // How many node-making resources each construct path (`a`, `a/b`...) holds.
    const held = new Map<string, number>();
    for (const entry of primaries) {
      for (let depth = 0; depth <= entry.path.length; depth++) {
        const prefix = entry.path.slice(0, depth).join('/');
        held.set(prefix, (held.get(prefix) ?? 0) + 1);
      }
    }
    const byPath = new Map<string, string>();
    for (const entry of primaries) {
      let depth = 1;
      while (held.get(entry.path.slice(0, depth).join('/'))! > 1) depth++;
      const owner = entry.path.slice(0, depth);
      const path = (WRAPPED_IDS.has(owner.at(-1)!) && owner.length > 1 ? owner.slice(0, -1) : owner).join(
        '/',
      );
      const id = `${synthesized.role}/${path}`;
      nodeOf.set(resourceKey(name, entry.logicalId), id);
      nodeResource.set(id, entry);
      byPath.set(entry.path.join('/'), id);
    }
    for (const entry of inStack) {
      if (nodeOf.has(resourceKey(name, entry.logicalId))) continue;
      for (let depth = entry.path.length - 1; depth >= 0; depth--) {
        const prefix = entry.path.slice(0, depth);
        const count = held.get(prefix.join('/')) ?? 0;
        if (count === 0) continue;
        const id =
          count === 1
            ? primaries
                .filter((p) => prefix.every((part, i) => p.path[i] === part))
                .map((p) => nodeOf.get(resourceKey(name, p.logicalId)))[0]
            : [...WRAPPED_IDS].map((wrapped) => byPath.get([...prefix, wrapped].join('/'))).find(Boolean);
        if (id) nodeOf.set(resourceKey(name, entry.logicalId), id);
        break;
      }
    }
  }
  return { resources, nodeOf, nodeResource };
}

function resourcesOf(synthesized: SynthesizedStack): ResourceEntry[] {
  const { stack, role } = synthesized;
  const found: ResourceEntry[] = [];
  const visit = (construct: IConstruct, machinery: boolean) => {
    const inMachinery = machinery || isMachinery(construct);
    if (construct instanceof CfnResource) {
      found.push({
        stack: stack.stackName,
        role,
        logicalId: stack.resolve(construct.logicalId) as string,
        type: construct.cfnResourceType,
        path: construct.node.path.split('/').slice(stack.node.path.split('/').length),
        machinery: inMachinery,
      });
    }
    for (const child of construct.node.children) {
      // A nested stack is a template of its own; the blueprint has none.
      if (!Stack.isStack(child)) visit(child, inMachinery);
    }
  };
  visit(stack, false);
  return found;
}

/** Buckets named as another bucket's access log destination. */
function accessLogBuckets(stacks: readonly SynthesizedStack[], templates: TemplatesByStack): Set<string> {
  const found = new Set<string>();
  for (const { stack, template } of stacks) {
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::S3::Bucket') continue;
      const logging = resource.Properties?.LoggingConfiguration;
      for (const ref of findReferences(logging, stack.stackName, templates)) {
        found.add(resourceKey(ref.target.stack, ref.target.logicalId));
      }
    }
  }
  return found;
}
