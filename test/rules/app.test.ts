import {
  BLUEPRINT_RULES,
  BlueprintRulesPlugin,
  checkTemplates,
  formatViolations,
} from '../../lib/platform/rules';
import { appTemplateSet } from '../support/iam/app-templates';
import { appUnderTest, DESIGNS_AND_PROFILES } from '../app/app-under-test';
import { builtForCollection } from '../app/collect';

describe.each(DESIGNS_AND_PROFILES)(
  'the blueprint rules over every template of the %s app (%s)',
  (design, profile) => {
    const set = builtForCollection(() => appTemplateSet(design, profile));
    if (!set) return;

    test.each(BLUEPRINT_RULES.map((r) => [r.id, r] as const))('%s holds', (_, rule) => {
      expect(
        formatViolations(checkTemplates(set, [rule]))
          .split('\n')
          .filter(Boolean),
      ).toEqual([]);
    });

    test('the plugin, given the cloud assembly files, finds what the templates hold', () => {
      // GIVEN the template files cdk synth wrote, stack names read from manifest.json
      const { app } = appUnderTest(design, profile);
      const templatePaths = app.synth().stacks.map((s) => s.templateFullPath);
      // WHEN the plugin validates them THEN it reports exactly the violations of checkTemplates
      const report = new BlueprintRulesPlugin().validate({ templatePaths, appConstruct: app });
      const reported = report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`),
      );
      expect(reported.sort()).toEqual(
        checkTemplates(set)
          .map((v) => `${v.rule} ${v.logicalId}`)
          .sort(),
      );
      expect(report.success).toBe(reported.length === 0);
    });
  },
);
