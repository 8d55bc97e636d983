import type { ProfileName } from '../../../lib/platform/config/profile';
import { TemplateSet } from '../../../lib/platform/rules/core/templates';
import { appUnderTest } from '../../infra/app-under-test';

const sets = new Map<ProfileName, TemplateSet>();

/** Every template of the app as `cdk synth` writes it for a profile; synthesized once per test file. */
export function appTemplateSet(profile: ProfileName): TemplateSet {
  let set = sets.get(profile);
  if (!set) {
    const assembly = appUnderTest(profile).app.synth();
    set = new TemplateSet(
      assembly.stacks.map((s) => ({
        stackName: s.stackName,
        templatePath: s.templateFullPath,
        template: s.template,
      })),
    );
    sets.set(profile, set);
  }
  return set;
}
