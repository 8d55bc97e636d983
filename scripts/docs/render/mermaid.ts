import type { ArchitectureGraph } from '../graph/model';
import { edgeLabel, nodeLines, nodesByStack, safeIds, stackFill, stackLines } from './labels';

/** Mermaid's entity for a double quote: a label is a quoted string. */
const quoted = (lines: readonly string[]) => `"${lines.join('<br/>').replace(/"/g, '#quot;')}"`;

/**
 * The graph as a Mermaid `flowchart LR` (GitHub draws it in Markdown): a subgraph per stack, a node
 * per construct, an edge per connection labelled with its kinds.
 */
export function toMermaid(graph: ArchitectureGraph): string {
  const ids = safeIds(graph);
  const lines = ['flowchart LR'];
  for (const [stack, nodes] of nodesByStack(graph)) {
    lines.push(`  subgraph ${ids.stack(stack.role)}[${quoted(stackLines(stack))}]`);
    for (const node of nodes) lines.push(`    ${ids.node(node.id)}[${quoted(nodeLines(node))}]`);
    lines.push('  end');
  }
  for (const edge of graph.edges) {
    lines.push(`  ${ids.node(edge.from)} -- ${quoted([edgeLabel(edge)])} --> ${ids.node(edge.to)}`);
  }
  for (const stack of graph.stacks) lines.push(`  style ${ids.stack(stack.role)} fill:${stackFill(stack)}`);
  return `${lines.join('\n')}\n`;
}
