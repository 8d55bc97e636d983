import { dataSection } from './data-section';
import { deploySection } from './deploy-section';
import { code, document } from './markdown';
import { modelSection } from './model-section';
import type { PageInput } from './page-input';
import { problemSection } from './problem-section';
import { trainingSection } from './training-section';
import { wrapUpSection } from './wrap-up-section';

/** A design's page: the six steps of the framework, filled from the design and its synthesized app. */
export function designPage(input: PageInput): string {
  const { design } = input;
  return document([
    `# ${design.summary.split(':')[0]} (${code(design.id)})`,
    `<!-- Written by npm run docs from lib/designs/${design.id}/ and the synthesized app: edit those, then regenerate. -->`,
    `${design.summary}.`,
    `Every number below comes from the design object (${code(`lib/designs/${design.id}/design.ts`)}) or from the app as ${code(`cdk synth -c design=${design.id} -c profile=<profile>`)} builds it, for both profiles; the diagram is the ${input.diagramProfile} profile's. Regenerate with ${code('npm run docs')}.`,
    problemSection(input),
    dataSection(input),
    modelSection(input),
    trainingSection(input),
    deploySection(input),
    wrapUpSection(input),
  ]);
}
