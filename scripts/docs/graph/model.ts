/**
 * The architecture graph of a synthesized app: its meaningful constructs, grouped by stack, and the
 * connections between them that its templates hold. Everything in it is sorted, so the same app
 * always gives the same graph.
 */

/** A construct that owns one meaningful resource (and the roles, logs, alarms... it made for it). */
export interface GraphNode {
  /** `<stack role>/<construct path in the stack>`, e.g. `Serving/Api`, `Ml/Endpoint`. */
  readonly id: string;
  /** The stack's role (`Data`, `Serving`...). */
  readonly stack: string;
  /** The construct path within the stack. */
  readonly path: string;
  /** What the resource is, in words: `Lambda function`, `S3 bucket`... */
  readonly kind: string;
  /** The CloudFormation type of its meaningful resource. */
  readonly resourceType: string;
  /** CloudFormation resources grouped into it. */
  readonly resourceCount: number;
  /** The `Description` its resource was given, if any. */
  readonly description?: string;
}

/** How one construct reaches another. */
export type ConnectionKind =
  | 'IAM'
  | 'env'
  | 'invokes'
  | 'task'
  | 'schedule'
  | 'event source'
  | 'network'
  | 'delivers'
  | 'log subscription'
  | 'alarm action'
  | 'encrypts'
  | 'monitors'
  | 'reference';

/** Kinds the diagram leaves out: they connect nearly everything to one node and say little. */
export const DIAGRAM_OMITS: readonly ConnectionKind[] = ['encrypts', 'monitors'];

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** Sorted, without repeats. */
  readonly kinds: readonly ConnectionKind[];
}

export interface GraphStack {
  readonly role: string;
  /** The deployed stack name. */
  readonly name: string;
  readonly description: string;
  /** Resources in its template. */
  readonly resourceCount: number;
}

export interface ArchitectureGraph {
  readonly stacks: readonly GraphStack[];
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** The edges between two different stacks. */
export function crossStackEdges(graph: ArchitectureGraph): readonly GraphEdge[] {
  const stackOf = new Map(graph.nodes.map((node) => [node.id, node.stack]));
  return graph.edges.filter((edge) => stackOf.get(edge.from) !== stackOf.get(edge.to));
}

/**
 * The graph the diagram draws: connections of the omitted kinds dropped (an edge with other kinds
 * keeps those).
 */
export function diagramGraph(graph: ArchitectureGraph): ArchitectureGraph {
  const edges = graph.edges
    .map((edge) => ({ ...edge, kinds: edge.kinds.filter((kind) => !DIAGRAM_OMITS.includes(kind)) }))
    .filter((edge) => edge.kinds.length > 0);
  return { ...graph, edges };
}
