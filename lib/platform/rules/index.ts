import type {
  IPolicyValidationContextBeta1,
  IPolicyValidationPlugin,
  IPolicyValidationPluginBeta1,
  PolicyValidationPluginReportBeta1,
  PolicyViolationBeta1,
} from 'aws-cdk-lib';
import { AlarmDimensionsNameResources } from './alarm-dimensions-name-resources';
import { AutoscaledEndpointRetainsVariants } from './autoscaled-endpoint-retains-variants';
import type { BlueprintRule, Finding } from './core/rule';
import { TemplateSet, type StackTemplate } from './core/templates';
import { DeploymentGuardrails } from './deployment-guardrails';
import { HyperparameterTuningLimits } from './hyperparameter-tuning-limits';
import { LocalStorageVolumeKms } from './local-storage-volume-kms';
import { RetainedResourceFixedName } from './retained-resource-fixed-name';
import { SdkIntegrationParameterCase } from './sdk-integration-parameter-case';
import { ServerlessInferenceExclusions } from './serverless-inference-exclusions';

export type { BlueprintRule, Finding } from './core/rule';
export { TemplateSet, type StackTemplate } from './core/templates';

/** Every rule of the blueprint, each in its own file. */
export const BLUEPRINT_RULES: readonly BlueprintRule[] = [
  ServerlessInferenceExclusions,
  LocalStorageVolumeKms,
  AlarmDimensionsNameResources,
  RetainedResourceFixedName,
  DeploymentGuardrails,
  AutoscaledEndpointRetainsVariants,
  SdkIntegrationParameterCase,
  HyperparameterTuningLimits,
];

/** A finding with the rule that made it. */
export interface RuleViolation extends Finding {
  readonly rule: string;
}

/** Runs the rules over the templates of one app (all stacks together: rules follow cross-stack references). */
export function checkTemplates(
  stacks: readonly StackTemplate[] | TemplateSet,
  rules: readonly BlueprintRule[] = BLUEPRINT_RULES,
): RuleViolation[] {
  const set = stacks instanceof TemplateSet ? stacks : new TemplateSet(stacks);
  return rules.flatMap((rule) => rule.check(set).map((f) => ({ rule: rule.id, ...f })));
}

/** `checkTemplates` over template files, e.g. those of a cloud assembly. */
export function checkTemplateFiles(
  templatePaths: readonly string[],
  rules: readonly BlueprintRule[] = BLUEPRINT_RULES,
): RuleViolation[] {
  return checkTemplates(TemplateSet.fromFiles(templatePaths), rules);
}

/** One line per violation: `stack/logicalId rule: message (at location)`. */
export function formatViolations(violations: readonly RuleViolation[]): string {
  return violations
    .map((v) => `${v.stackName}/${v.logicalId} [${v.rule}] ${v.message} (at ${v.location})`)
    .join('\n');
}

/**
 * The rules as a CDK policy-validation plugin: `cdk synth` runs them over every template and fails
 * on a violation, printing what is wrong, the resource and the document the rule encodes. It fits
 * both the App option and the newer Validations API:
 *
 * ```ts
 * const app = new App({ policyValidationBeta1: [new BlueprintRulesPlugin()] });
 * // or: Validations.of(app).addPlugins(new BlueprintRulesPlugin());
 * ```
 */
export class BlueprintRulesPlugin implements IPolicyValidationPluginBeta1, IPolicyValidationPlugin {
  public readonly name = 'BlueprintRules';
  public readonly version = '1.0.0';
  public readonly ruleIds: string[];

  constructor(private readonly rules: readonly BlueprintRule[] = BLUEPRINT_RULES) {
    this.ruleIds = rules.map((r) => r.id);
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const violations: PolicyViolationBeta1[] = checkTemplateFiles(context.templatePaths, this.rules).map(
      (v) => {
        const rule = this.rules.find((r) => r.id === v.rule)!;
        return {
          // One entry per finding: CDK prints the description, so it carries what is wrong.
          ruleName: rule.id,
          description: `[${rule.id}] ${v.message}`,
          fix: rule.documentation,
          severity: 'error',
          ruleMetadata: { rule: rule.description },
          violatingResources: [
            { resourceLogicalId: v.logicalId, templatePath: v.templatePath, locations: [v.location] },
          ],
        };
      },
    );
    return { success: violations.length === 0, violations };
  }
}
