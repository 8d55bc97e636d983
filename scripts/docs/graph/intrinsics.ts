import type { CfnTemplate } from '../synthesized-app';

/** A resource of one stack of an app. */
export interface ResourceAddress {
  /** The deployed stack name. */
  readonly stack: string;
  readonly logicalId: string;
}

/** A reference to a resource found in a template value, and where in the value it was. */
export interface FoundReference {
  readonly target: ResourceAddress;
  /** Keys and indexes from the value's root to the intrinsic that names the target. */
  readonly path: readonly (string | number)[];
}

/** The templates of an app by stack name, for references that leave their stack. */
export type TemplatesByStack = ReadonlyMap<string, CfnTemplate>;

const SUB_VARIABLE = /\$\{([^!}][^}]*)\}/g;

/**
 * Every resource `value` refers to: `Ref`, `Fn::GetAtt`, `${...}` in `Fn::Sub`, and through the
 * producing stack's output, `Fn::GetStackOutput` (CDK's weak cross-stack references) and
 * `Fn::ImportValue`. Pseudo parameters (`AWS::Region`...) and template parameters are not resources
 * and are left out.
 */
export function findReferences(
  value: unknown,
  stack: string,
  templates: TemplatesByStack,
  path: readonly (string | number)[] = [],
): FoundReference[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => findReferences(item, stack, templates, [...path, i]));
  }
  if (value === null || typeof value !== 'object') return [];
  const resources = templates.get(stack)?.Resources ?? {};
  const here = (logicalId: string): FoundReference[] =>
    Object.hasOwn(resources, logicalId) ? [{ target: { stack, logicalId }, path }] : [];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [[key, argument]] = entries;
    switch (key) {
      case 'Ref':
        return typeof argument === 'string' ? here(argument) : [];
      case 'Fn::GetAtt': {
        const target = Array.isArray(argument) ? argument[0] : String(argument).split('.')[0];
        return typeof target === 'string' ? here(target) : [];
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
        const named = [...String(text).matchAll(SUB_VARIABLE)]
          .map((match) => match[1].split('.')[0])
          .filter((name) => !Object.hasOwn(variables ?? {}, name))
          .flatMap(here);
        return [...named, ...findReferences(variables, stack, templates, [...path, 1])];
      }
      case 'Fn::GetStackOutput': {
        const { StackName: producer, OutputName: output } = argument as Record<string, unknown>;
        if (typeof producer !== 'string' || typeof output !== 'string') return [];
        return outputReferences(producer, templates.get(producer)?.Outputs?.[output]?.Value, templates, path);
      }
      case 'Fn::ImportValue':
        return importReferences(argument, templates, path);
    }
  }
  return entries.flatMap(([key, item]) => findReferences(item, stack, templates, [...path, key]));
}

function outputReferences(
  producer: string,
  outputValue: unknown,
  templates: TemplatesByStack,
  path: readonly (string | number)[],
): FoundReference[] {
  return findReferences(outputValue, producer, templates).map((found) => ({ target: found.target, path }));
}

function importReferences(
  exportName: unknown,
  templates: TemplatesByStack,
  path: readonly (string | number)[],
): FoundReference[] {
  if (typeof exportName !== 'string') return [];
  for (const [producer, template] of templates) {
    for (const output of Object.values(template.Outputs ?? {})) {
      if (output.Export?.Name === exportName)
        return outputReferences(producer, output.Value, templates, path);
    }
  }
  return [];
}
