import type { ResourceRef, TemplateSet } from './templates';

/** One resource that breaks a rule, and how. */
export interface Finding {
  readonly stackName: string;
  readonly templatePath: string;
  readonly logicalId: string;
  /** Where in the resource, e.g. `Properties/ProductionVariants/0` or `States/Train/Parameters`. */
  readonly location: string;
  readonly message: string;
}

/**
 * A constraint AWS documents in prose, checked on synthesized templates. Each rule lives in its own
 * file of `lib/rules/`, named by it, with the document it encodes.
 */
export interface BlueprintRule {
  /** The file's name, e.g. `serverless-inference-exclusions`. */
  readonly id: string;
  /** One sentence: what must hold. */
  readonly description: string;
  /** The AWS document the rule encodes. */
  readonly documentation: string;
  check(set: TemplateSet): Finding[];
}

export function finding(ref: ResourceRef, location: string, message: string): Finding {
  return {
    stackName: ref.stack.stackName,
    templatePath: ref.stack.templatePath,
    logicalId: ref.logicalId,
    location,
    message,
  };
}
