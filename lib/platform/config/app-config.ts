import { deriveCapacity, type Capacity } from './capacity';
import { Problems } from './config-error';
import type { Design } from './design';
import { collectServingCostProblems } from './endpoint-hardware';
import { PROFILES, PROFILE_NAMES, type Profile, type ProfileName } from './profile';
import { collectRequirementProblems } from './requirements';

/** Everything a deployment is built from: which design, which profile, and the derived sizes. */
export interface AppConfig {
  readonly design: Design;
  readonly profile: Profile;
  readonly capacity: Capacity;
  /**
   * What every name a training run creates starts with (jobs, models, endpoint configs, packages),
   * and what the IAM of the pipeline and of the cleanup is scoped to: the design and the profile,
   * so neither another design nor the other profile of this one in the same account is ever touched.
   */
  readonly runNamePrefix: string;
}

/** Short profile tags for run names: SageMaker names are at most 63 characters, 37 go to the UUID. */
const RUN_NAME_TAGS: Record<ProfileName, string> = { sandbox: 'sbx', production: 'prod' };
/** The longest run name prefix: 63 characters, less `-` and a 36-character UUID. */
export const MAX_RUN_NAME_PREFIX = 26;

/** The longest design id: its run names' prefix, `<id>-prod`, must fit MAX_RUN_NAME_PREFIX. */
export const MAX_DESIGN_ID_LENGTH = MAX_RUN_NAME_PREFIX - `-${RUN_NAME_TAGS.production}`.length;

/**
 * Why `id` cannot name a design, or undefined when it can: lower-case words of letters and digits
 * joined by single `-`, starting with a letter (it becomes a Python package name with `_`), short
 * enough for run names.
 */
export function designIdProblem(id: string): string | undefined {
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(id) || id.length > MAX_DESIGN_ID_LENGTH) {
    return `must be lower-case letters and digits in words joined by '-', starting with a letter, at most ${MAX_DESIGN_ID_LENGTH} characters: run names start with it`;
  }
  return undefined;
}

/**
 * Resolves `-c design=...` and `-c profile=...` against the known designs. Every bad context value
 * and every bad requirement is reported in one error.
 */
export function resolveAppConfig(
  context: { design?: unknown; profile?: unknown },
  designs: Readonly<Record<string, Design>>,
): AppConfig {
  const problems = new Problems();
  const designIds = Object.keys(designs);
  const designId = context.design ?? designIds[0];
  const profileName = context.profile ?? 'sandbox';
  if (typeof designId !== 'string' || !Object.hasOwn(designs, designId)) {
    problems.add('design', `must be one of ${designIds.join(', ')}; got ${JSON.stringify(designId)}`);
  }
  if (!PROFILE_NAMES.includes(profileName as ProfileName)) {
    problems.add('profile', `must be one of ${PROFILE_NAMES.join(', ')}; got ${JSON.stringify(profileName)}`);
  }
  const design = designs[designId as string];
  if (design) {
    const idProblem = designIdProblem(design.id);
    if (idProblem) problems.add(`${design.id}.id`, idProblem);
    collectRequirementProblems(design.requirements, problems, `${design.id}.requirements.`);
    collectVariantProblems(design.abVariants, problems.scoped(`${design.id}.abVariants`));
    design.collectProblems?.(problems.scoped(`${design.id}.`));
    if (design.model.serving) {
      collectServingCostProblems(design.model.serving, problems.scoped(`${design.id}.model.serving.`));
    } else if (
      PROFILE_NAMES.includes(profileName as ProfileName) &&
      PROFILES[profileName as ProfileName].endpoint.kind === 'instances'
    ) {
      problems.add(
        `${design.id}.model.serving`,
        `the ${String(profileName)} profile hosts the endpoint on instances chosen from the model's measured cost per request; measure it (sagemaker/<package>/serving_cost.py) and record it`,
      );
    }
  }
  problems.throwIfAny('configuration');

  const profile = PROFILES[profileName as ProfileName];
  return {
    design,
    profile,
    capacity: deriveCapacity(design.requirements, profile, design),
    runNamePrefix: `${design.id}-${RUN_NAME_TAGS[profile.name]}`,
  };
}

const VARIANT_NAME = /^[A-Za-z0-9](-*[A-Za-z0-9])*$/;

function collectVariantProblems(variants: Design['abVariants'], problems: Problems): void {
  if (variants.length === 0) problems.add('', 'must name at least one variant');
  if (variants.length > 10) problems.add('', 'an endpoint holds at most 10 production variants');
  const names = new Set<string>();
  variants.forEach((variant, i) => {
    if (!VARIANT_NAME.test(variant.name) || variant.name.length > 63) {
      problems.add(
        `[${i}].name`,
        `must be 1-63 letters, digits and inner hyphens; got ${JSON.stringify(variant.name)}`,
      );
    }
    if (names.has(variant.name)) problems.add(`[${i}].name`, `duplicates ${variant.name}`);
    names.add(variant.name);
    problems.checkNumber(`[${i}].weight`, variant.weight, 0, 1);
  });
  if (variants.length > 0 && !variants.some((v) => v.weight > 0))
    problems.add('', 'needs one variant with a positive weight');
}
