import type { CfnResource, StackTemplate } from '../../lib/platform/rules/core/templates';
import { TemplateSet } from '../../lib/platform/rules/core/templates';
import { checkTemplates, type BlueprintRule } from '../../lib/platform/rules';

/** A template as `cdk synth` would write it, for one stack. */
export function stack(
  stackName: string,
  resources: Record<string, CfnResource>,
  outputs: Record<string, unknown> = {},
): StackTemplate {
  return {
    stackName,
    templatePath: `/fixtures/${stackName}.template.json`,
    template: {
      Resources: resources,
      Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
    },
  };
}

const INTRINSIC = /^(Ref|Fn::[A-Za-z]+)$/;

/**
 * A state machine whose definition carries CloudFormation tokens the way CDK writes them: the
 * definition is a JSON string in an `Fn::Join`, every token a separate part inside the quotes.
 */
export function stateMachine(definition: object, roleLogicalId = 'MachineRole'): CfnResource {
  const tokens: unknown[] = [];
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace);
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length === 1 && INTRINSIC.test(keys[0])) {
        tokens.push(value);
        return `__TOKEN_${tokens.length - 1}__`;
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
    }
    return value;
  };
  const text = JSON.stringify(replace(definition));
  const parts = text.split(/__TOKEN_(\d+)__/).map((part, i) => (i % 2 === 1 ? tokens[Number(part)] : part));
  return {
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: {
      RoleArn: { 'Fn::GetAtt': [roleLogicalId, 'Arn'] },
      DefinitionString: { 'Fn::Join': ['', parts.filter((p) => p !== '')] },
    },
  };
}

/** A one-state definition calling `resource` with `parameters`. */
export function task(
  name: string,
  resource: string,
  parameters: object,
): { StartAt: string; States: object } {
  return {
    StartAt: name,
    States: { [name]: { Type: 'Task', Resource: resource, Parameters: parameters, End: true } },
  };
}

/** States chained in order, each a Task on `[resource, parameters]`. */
export function tasks(entries: Record<string, [string, object]>): { StartAt: string; States: object } {
  const names = Object.keys(entries);
  return {
    StartAt: names[0],
    States: Object.fromEntries(
      names.map((n, i) => [
        n,
        {
          Type: 'Task',
          Resource: entries[n][0],
          Parameters: entries[n][1],
          ...(i + 1 < names.length ? { Next: names[i + 1] } : { End: true }),
        },
      ]),
    ),
  };
}

export const role = (statements: object[] = []): Record<string, CfnResource> => ({
  MachineRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
  MachineRolePolicy: {
    Type: 'AWS::IAM::Policy',
    Properties: {
      Roles: [{ Ref: 'MachineRole' }],
      PolicyDocument: { Statement: statements.map((s) => ({ Effect: 'Allow', ...s })) },
    },
  },
});

/** `logicalId @ location` of every finding of one rule, sorted: what a test compares. */
export function findings(rule: BlueprintRule, ...stacks: StackTemplate[]): string[] {
  return checkTemplates(new TemplateSet(stacks), [rule])
    .map((f) => `${f.logicalId} @ ${f.location}`)
    .sort();
}

/** The messages of one rule's findings. */
export function messages(rule: BlueprintRule, ...stacks: StackTemplate[]): string[] {
  return checkTemplates(new TemplateSet(stacks), [rule]).map((f) => f.message);
}
