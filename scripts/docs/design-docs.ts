import { DESIGNS } from '../../lib/designs';
import { PROFILE_NAMES, type ProfileName } from '../../lib/platform/config/profile';
import { analyseArchitecture } from './graph/architecture-graph';
import { diagramGraph } from './graph/model';
import { designPage } from './page/design-page';
import type { ProfileView } from './page/page-input';
import { templateFacts } from './page/template-facts';
import { toDot } from './render/dot';
import { toMermaid } from './render/mermaid';
import { renderSvg } from './render/svg';
import { synthesizeDesign } from './synthesized-app';

/** Where the design pages live, relative to the repository root. */
export const DOCS_FOLDER = 'docs/designs';

/** The profile each page's diagram draws: what a design is meant to run as. */
export const DIAGRAM_PROFILE: ProfileName = 'production';

/** One design's synthesized profiles, each with its graph and facts. */
export function designViews(designId: string): Readonly<Record<ProfileName, ProfileView>> {
  return Object.fromEntries(
    PROFILE_NAMES.map((profile) => {
      const { config, stacks, estimate } = synthesizeDesign(designId, profile);
      const architecture = analyseArchitecture(stacks);
      const facts = templateFacts(stacks, architecture);
      return [profile, { config, graph: architecture.graph, facts, estimate }];
    }),
  ) as Record<ProfileName, ProfileView>;
}

/** A design's generated files: its page and its diagram, by path relative to the repository root. */
export function designDocs(designId: string): ReadonlyMap<string, string> {
  const profiles = designViews(designId);
  const drawn = diagramGraph(profiles[DIAGRAM_PROFILE].graph);
  const mermaid = toMermaid(drawn);
  const page = designPage({
    design: DESIGNS[designId],
    profiles,
    diagramProfile: DIAGRAM_PROFILE,
    mermaid,
    svgFile: `${designId}.svg`,
  });
  return new Map([
    [`${DOCS_FOLDER}/${designId}.md`, page],
    [`${DOCS_FOLDER}/${designId}.svg`, renderSvg(toDot(drawn))],
  ]);
}

/** Every registered design's files, in path order. */
export function allDesignDocs(
  designIds: readonly string[] = Object.keys(DESIGNS),
): ReadonlyMap<string, string> {
  const files = [...designIds].flatMap((id) => [...designDocs(id)]);
  return new Map(files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
