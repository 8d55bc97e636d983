/** What a diagram writes for each part of the graph, shared by the Mermaid and the DOT output. */
import type { ArchitectureGraph, GraphEdge, GraphNode, GraphStack } from '../graph/model';
import { STACK_STEPS, stepLabel } from '../graph/framework-steps';

/** A node's construct path on its first line, what it is on the second. */
export function nodeLines(node: GraphNode): readonly string[] {
  return [node.path, node.kind];
}

/** The stack's role, then the framework step it serves. */
export function stackLines(stack: GraphStack): readonly string[] {
  const step = stepLabel(stack.role);
  return step ? [stack.role, `step ${step}`] : [stack.role, 'every step'];
}

export function edgeLabel(edge: GraphEdge): string {
  return edge.kinds.join(', ');
}

/** A fill per framework step, so a stack's colour says what it is for. */
export function stackFill(stack: GraphStack): string {
  const fills: Record<number, string> = { 2: '#e8f1fb', 4: '#fdf5e0', 5: '#e9f6ec' };
  const step = STACK_STEPS[stack.role];
  return (step && fills[step]) || '#f2f2f2';
}

/** The nodes of each stack, stacks and nodes in the graph's (sorted) order. */
export function nodesByStack(graph: ArchitectureGraph): readonly [GraphStack, readonly GraphNode[]][] {
  return graph.stacks.map((stack) => [stack, graph.nodes.filter((node) => node.stack === stack.role)]);
}

/**
 * Identifiers made of letters, digits and `_` for every node and stack, as Mermaid needs them;
 * throws when two would be the same.
 */
export function safeIds(graph: ArchitectureGraph): {
  node: (id: string) => string;
  stack: (role: string) => string;
} {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9]/g, '_');
  const nodeIds = new Map(graph.nodes.map((node) => [node.id, `n_${safe(node.id)}`]));
  const stackIds = new Map(graph.stacks.map((stack) => [stack.role, `s_${safe(stack.role)}`]));
  const all = [...nodeIds.values(), ...stackIds.values()];
  const clash = all.find((id, i) => all.indexOf(id) !== i);
  if (clash) throw new Error(`two parts of the diagram would share the identifier ${clash}`);
  return { node: (id) => nodeIds.get(id)!, stack: (role) => stackIds.get(role)! };
}
