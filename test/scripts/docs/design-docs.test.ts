/**
 * The design pages in docs/designs/ are generated (`npm run docs`): these tests regenerate them in
 * memory, from every registered design synthesized in both profiles, and check that the committed
 * files are exactly that, and that what they hold is sound.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DESIGNS } from '../../../lib/designs';
import { allDesignDocs, DIAGRAM_PROFILE, DOCS_FOLDER, designViews } from '../../../scripts/docs/design-docs';
import { STACK_STEPS } from '../../../scripts/docs/graph/framework-steps';
import { crossStackEdges, diagramGraph } from '../../../scripts/docs/graph/model';
import { staleFiles } from '../../../scripts/docs/stale-files';
import { synthesizeDesign } from '../../../scripts/docs/synthesized-app';
import { parseMarkdown } from '../../readme/markdown';

const ROOT = path.join(__dirname, '..', '..', '..');
const DESIGN_IDS = Object.keys(DESIGNS);

// Four synths (two designs, two profiles), each once in this file.
jest.setTimeout(240_000);
let generated: ReadonlyMap<string, string>;
beforeAll(() => {
  generated = allDesignDocs();
});

const page = (id: string) => generated.get(`${DOCS_FOLDER}/${id}.md`)!;
const svg = (id: string) => generated.get(`${DOCS_FOLDER}/${id}.svg`)!;
const mermaidOf = (markdown: string) => /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';

describe('docs/designs', () => {
  it('holds exactly what npm run docs generates', () => {
    const stale = staleFiles(ROOT, DOCS_FOLDER, generated);
    if (stale.length > 0) {
      throw new Error(
        `stale generated docs: ${stale.join(', ')}: run \`npm run docs\` and commit the result`,
      );
    }
  });

  it('generates the same files on a second run', () => {
    expect(allDesignDocs()).toEqual(generated);
  });

  it('knows the framework step of every stack of every design', () => {
    const roles = DESIGN_IDS.flatMap((id) => synthesizeDesign(id, DIAGRAM_PROFILE).stacks.map((s) => s.role));
    expect(roles.filter((role) => !(role in STACK_STEPS))).toEqual([]);
  });
});

describe.each(DESIGN_IDS)('the page of %s', (id) => {
  it('walks the six steps of the framework, in order', () => {
    const steps = parseMarkdown(page(id))
      .headings.filter((h) => h.level === 2)
      .map((h) => h.text.split(' ')[0]);
    expect(steps).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('renders every table as written and closes every block', () => {
    const doc = parseMarkdown(page(id));
    expect(doc.unclosedFenceLine).toBeUndefined();
    expect(doc.tables.flatMap((t) => t.problems)).toEqual([]);
  });

  it('is formatted as prettier formats it (npm run lint checks docs/ too)', () => {
    const prettier = require.resolve('prettier/bin/prettier.cjs');
    const run = spawnSync(process.execPath, [prettier, '--stdin-filepath', `${id}.md`], {
      cwd: ROOT,
      input: page(id),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(page(id));
  });

  it('draws a Mermaid subgraph per stack, a node per construct and edges between stacks', () => {
    const graph = diagramGraph(designViews(id)[DIAGRAM_PROFILE].graph);
    const mermaid = mermaidOf(page(id));
    expect(mermaid.startsWith('flowchart LR\n')).toBe(true);
    // Which subgraph each node is declared in, and every edge.
    const subgraphOf = new Map<string, string>();
    const subgraphs: string[] = [];
    const edges: [string, string][] = [];
    let current: string | undefined;
    for (const line of mermaid.split('\n').map((l) => l.trim())) {
      const opened = /^subgraph (\w+)\[/.exec(line);
      const node = /^(\w+)\["/.exec(line);
      const link = /^(\w+) -- ".*" --> (\w+)$/.exec(line);
      if (opened) subgraphs.push((current = opened[1]));
      else if (line === 'end') current = undefined;
      else if (link) edges.push([link[1], link[2]]);
      else if (node && current) subgraphOf.set(node[1], current);
    }
    expect(subgraphs).toHaveLength(graph.stacks.length);
    expect(subgraphOf.size).toBe(graph.nodes.length);
    expect(edges).toHaveLength(graph.edges.length);
    const between = edges.filter(([from, to]) => subgraphOf.get(from) !== subgraphOf.get(to));
    expect(between.length).toBe(crossStackEdges(graph).length);
    expect(between.length).toBeGreaterThan(0);
  });

  it('renders the diagram to an SVG with a cluster per stack, each node and each edge', () => {
    const graph = diagramGraph(designViews(id)[DIAGRAM_PROFILE].graph);
    const image = svg(id);
    expect(image).toMatch(/^<\?xml [^>]*\?>\s*<!DOCTYPE svg/);
    expect(balancedTags(image)).toBe(true);
    const [, , , width, height] = /<svg [^>]*viewBox="([\d.-]+) ([\d.-]+) ([\d.]+) ([\d.]+)"/
      .exec(image)!
      .map(Number);
    expect(width).toBeGreaterThan(300);
    expect(height).toBeGreaterThan(300);
    const titles = [
      ...image.matchAll(/<g id="[^"]*" class="(cluster|node|edge)">\s*<title>([^<]*)<\/title>/g),
    ];
    const of = (kind: string) => titles.filter((t) => t[1] === kind).map((t) => unescapeXml(t[2]));
    expect(of('cluster').sort()).toEqual(graph.stacks.map((s) => `cluster_${s.role}`).sort());
    expect(of('node').sort()).toEqual(graph.nodes.map((n) => n.id).sort());
    expect(of('edge')).toHaveLength(graph.edges.length);
    const texts = new Set([...image.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => unescapeXml(t[1])));
    expect(graph.stacks.map((s) => s.role).filter((role) => !texts.has(role))).toEqual([]);
    expect(graph.nodes.map((n) => n.path).filter((p) => !texts.has(p))).toEqual([]);
  });
});

function unescapeXml(text: string): string {
  return text
    .replace(/&#45;/g, '-')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** Every element closed in order: the SVG is well-formed XML as far as its elements go. */
function balancedTags(xml: string): boolean {
  const open: string[] = [];
  const body = xml.replace(/<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, '');
  for (const [, closing, name, selfClosing] of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (!closing) open.push(name);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}
