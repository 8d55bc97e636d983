import type { ProfileName } from '../../../lib/platform/config/profile';
import { TemplateSet } from '../../../lib/platform/rules/core/templates';
import { appUnderTest } from '../../app/app-under-test';

const sets = new Map<string, TemplateSet>();

/**
 * Every template of a design's app as `cdk synth` writes it for a profile; synthesized once per
 * test file and pair.
 */
export function appTemplateSet(design: string, profile: ProfileName): TemplateSet {
  const key = `${design}/${profile}`;
  let set = sets.get(key);
  if (!set) {
    const assembly = appUnderTest(design, profile).app.synth();
    set = new TemplateSet(
      assembly.stacks.map((s) => ({
        stackName: s.stackName,
        templatePath: s.templateFullPath,
        template: s.template,
      })),
    );
    sets.set(key, set);
  }
  return set;
}
