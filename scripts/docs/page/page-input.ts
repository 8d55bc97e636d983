import type { AppConfig } from '../../../lib/platform/config/app-config';
import type { Design } from '../../../lib/platform/config/design';
import { PROFILE_NAMES, type ProfileName } from '../../../lib/platform/config/profile';
import type { Estimate } from '../../../lib/platform/pricing/estimate';
import type { ArchitectureGraph } from '../graph/model';
import { code } from './markdown';
import type { TemplateFacts } from './template-facts';

/** One profile of a design as synthesized: its configuration, its graph, its templates' facts. */
export interface ProfileView {
  readonly config: AppConfig;
  readonly graph: ArchitectureGraph;
  readonly facts: TemplateFacts;
  /** The idle cost of its templates (lib/platform/pricing/). */
  readonly estimate: Estimate;
}

/** What a design page is written from. */
export interface PageInput {
  readonly design: Design;
  readonly profiles: Readonly<Record<ProfileName, ProfileView>>;
  /** The profile the diagram draws. */
  readonly diagramProfile: ProfileName;
  /** The diagram as Mermaid. */
  readonly mermaid: string;
  /** The rendered diagram's file name, beside the page. */
  readonly svgFile: string;
}

/** The profiles in their fixed order (sandbox, production). */
export const profileNames = PROFILE_NAMES;

/**
 * One value per profile: `x` when every profile has the same, else `x (sandbox), y (production)`;
 * profiles without one are left out, and `-` when none has one.
 */
export function perProfile(input: PageInput, value: (view: ProfileView) => string | undefined): string {
  const values = profileNames.map((name) => [name, value(input.profiles[name])] as const);
  const present = values.filter(([, text]) => text !== undefined) as (readonly [ProfileName, string])[];
  if (present.length === 0) return '-';
  if (present.length === values.length && present.every(([, text]) => text === present[0][1]))
    return present[0][1];
  return present.map(([name, text]) => `${text} (${name})`).join(', ');
}

/** A node of the diagram, as the page names it. */
export const nodeName = (id: string): string => code(id);
