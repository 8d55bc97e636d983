import type { ArchitectureGraph } from '../graph/model';
import { edgeLabel, nodeLines, nodesByStack, stackFill, stackLines } from './labels';

const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
/** A DOT string literal. */
const literal = (text: string) => `"${escape(text)}"`;
/** A label of several lines: `\n` is DOT's centred line break. */
const label = (lines: readonly string[]) => `"${lines.map(escape).join('\\n')}"`;

/** The same graph as `toMermaid`, in Graphviz's DOT: a cluster per stack, left to right. */
export function toDot(graph: ArchitectureGraph): string {
  const lines = [
    'digraph architecture {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=14, nodesep=0.25, ranksep=0.9];',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#6b7785", fontname="Helvetica", fontsize=11];',
    '  edge [color="#55606e", fontname="Helvetica", fontsize=9, fontcolor="#3b4450"];',
  ];
  for (const [stack, nodes] of nodesByStack(graph)) {
    lines.push(`  subgraph ${literal(`cluster_${stack.role}`)} {`);
    lines.push(`    label=${label(stackLines(stack))};`);
    lines.push(`    style="rounded,filled"; fillcolor=${literal(stackFill(stack))}; color="#9aa5b1";`);
    for (const node of nodes) lines.push(`    ${literal(node.id)} [label=${label(nodeLines(node))}];`);
    lines.push('  }');
  }
  for (const edge of graph.edges) {
    lines.push(`  ${literal(edge.from)} -> ${literal(edge.to)} [label=${literal(edgeLabel(edge))}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
