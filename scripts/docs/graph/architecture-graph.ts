import type { SynthesizedStack } from '../synthesized-app';
import { connectionsOf, type Connection } from './connections';
import { groupConstructs, resourceKey, type ConstructGroups } from './construct-groups';
import type { TemplatesByStack } from './intrinsics';
import type { ArchitectureGraph, ConnectionKind, GraphEdge, GraphNode, GraphStack } from './model';
import { NODE_TYPES } from './resource-kinds';

/** Where a resource runs in the network: a reference to one is placement, unless a security group rule. */
const PLACEMENT_TYPES = new Set([
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::RouteTable',
  'AWS::RDS::DBSubnetGroup',
]);

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The architecture graph of synthesized stacks: a node per meaningful construct
 * (`groupConstructs`), an edge per pair of nodes that any of their resources connect
 * (`connectionsOf`), with every kind of connection between them. A resource that belongs to no
 * construct with a node (a role or log group made at the stack's top level) joins the one node of
 * its stack it is connected to, when there is exactly one.
 */
export function architectureGraph(stacks: readonly SynthesizedStack[]): ArchitectureGraph {
  return analyseArchitecture(stacks).graph;
}

/** The graph, and the node each resource of the stacks belongs to (undefined for none). */
export interface Architecture {
  readonly graph: ArchitectureGraph;
  nodeOf(stack: string, logicalId: string): string | undefined;
}

/** `architectureGraph`, with the node of each resource. */
export function analyseArchitecture(stacks: readonly SynthesizedStack[]): Architecture {
  const templates: TemplatesByStack = new Map(stacks.map((s) => [s.stack.stackName, s.template]));
  const groups = groupConstructs(stacks, templates);
  const typeOf = new Map(groups.resources.map((r) => [resourceKey(r.stack, r.logicalId), r.type]));
  const machinery = new Set(
    groups.resources.filter((r) => r.machinery).map((r) => resourceKey(r.stack, r.logicalId)),
  );
  const connections = stacks
    .flatMap(({ stack, template }) =>
      Object.entries(template.Resources ?? {}).flatMap(([logicalId, resource]) =>
        connectionsOf({ stack: stack.stackName, logicalId }, resource, templates),
      ),
    )
    .filter(
      (c) =>
        !machinery.has(resourceKey(c.from.stack, c.from.logicalId)) &&
        !machinery.has(resourceKey(c.to.stack, c.to.logicalId)),
    );
  adoptStrays(groups, connections);

  const edges = new Map<string, { from: string; to: string; kinds: Set<ConnectionKind> }>();
  for (const c of connections) {
    const from = groups.nodeOf.get(resourceKey(c.from.stack, c.from.logicalId));
    const to = groups.nodeOf.get(resourceKey(c.to.stack, c.to.logicalId));
    if (!from || !to || from === to) continue;
    const targetType = typeOf.get(resourceKey(c.to.stack, c.to.logicalId)) ?? '';
    if (c.kind !== 'network' && PLACEMENT_TYPES.has(targetType)) continue;
    const kind = targetType === 'AWS::KMS::Key' ? 'encrypts' : c.kind;
    const key = `${from}\n${to}`;
    const edge = edges.get(key) ?? { from, to, kinds: new Set<ConnectionKind>() };
    edge.kinds.add(kind);
    edges.set(key, edge);
  }

  const counts = new Map<string, number>();
  for (const node of groups.nodeOf.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
  const nodes: GraphNode[] = [...groups.nodeResource].map(([id, entry]) => ({
    id,
    stack: entry.role,
    path: id.slice(entry.role.length + 1),
    kind: NODE_TYPES[entry.type],
    resourceType: entry.type,
    resourceCount: counts.get(id) ?? 0,
    ...descriptionOf(templates.get(entry.stack)?.Resources?.[entry.logicalId]?.Properties?.Description),
  }));
  const graphStacks: GraphStack[] = stacks.map(({ role, stack, template }) => ({
    role,
    name: stack.stackName,
    description: template.Description ?? '',
    resourceCount: Object.keys(template.Resources ?? {}).length,
  }));
  const graph: ArchitectureGraph = {
    stacks: graphStacks.sort((a, b) => byText(a.role, b.role)),
    nodes: nodes.sort((a, b) => byText(a.id, b.id)),
    edges: [...edges.values()]
      .map((edge): GraphEdge => ({ from: edge.from, to: edge.to, kinds: [...edge.kinds].sort(byText) }))
      .sort((a, b) => byText(a.from, b.from) || byText(a.to, b.to)),
  };
  return { graph, nodeOf: (stack, logicalId) => groups.nodeOf.get(resourceKey(stack, logicalId)) };
}

/**
 * Gives each resource without a node the node of its stack it is connected to, when that is one
 * node; repeated until nothing changes (a schedule's role joins once its schedule has). Resources
 * are visited in a fixed order, so the outcome never depends on timing.
 */
function adoptStrays(groups: ConstructGroups, connections: readonly Connection[]): void {
  const strays = groups.resources
    .filter((r) => !r.machinery && !groups.nodeOf.has(resourceKey(r.stack, r.logicalId)))
    .map((r) => resourceKey(r.stack, r.logicalId))
    .sort(byText);
  const neighbours = new Map<string, Set<string>>();
  const link = (a: string, b: string) => neighbours.set(a, (neighbours.get(a) ?? new Set()).add(b));
  for (const c of connections) {
    if (c.from.stack !== c.to.stack) continue;
    const from = resourceKey(c.from.stack, c.from.logicalId);
    const to = resourceKey(c.to.stack, c.to.logicalId);
    link(from, to);
    link(to, from);
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (const stray of strays) {
      if (groups.nodeOf.has(stray)) continue;
      const nodes = new Set(
        [...(neighbours.get(stray) ?? [])].map((n) => groups.nodeOf.get(n)).filter((n) => n !== undefined),
      );
      if (nodes.size === 1) {
        groups.nodeOf.set(stray, [...nodes][0]);
        changed = true;
      }
    }
  }
}

function descriptionOf(value: unknown): { description?: string } {
  return typeof value === 'string' && value !== '' ? { description: value } : {};
}
