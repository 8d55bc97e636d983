import { UNKNOWN, type ResourceRef, type TemplateSet } from './templates';

/** How a Task state calls AWS, read from its `Resource`. */
export type Integration =
  /** `arn:aws:states:::aws-sdk:<service>:<operation>[.pattern]` */
  | { readonly kind: 'sdk'; readonly service: string; readonly operation: string; readonly pattern: string }
  /** `arn:aws:states:::<service>:<operation>[.pattern]`, an optimized integration */
  | {
      readonly kind: 'optimized';
      readonly service: string;
      readonly operation: string;
      readonly pattern: string;
    }
  /** a Lambda function's ARN as the Resource: Step Functions invokes it */
  | { readonly kind: 'function'; readonly functionArn: string }
  | { readonly kind: 'other'; readonly resource: string };

/** A call a state machine makes: a Task state, or the S3 reads and writes of a distributed Map. */
export interface TaskCall {
  /** The state's name; `<Map>.ItemReader` / `<Map>.ResultWriter` for a distributed map's own calls. */
  readonly state: string;
  /** JSON path of the call inside the definition, e.g. `States/Train/Parameters`. */
  readonly path: string;
  readonly integration: Integration;
  /**
   * The request, resolved: a JSONPath value (`"X.$"`) becomes `X: UNKNOWN`, CloudFormation tokens
   * become markers. A rule decides only on what is known.
   */
  readonly parameters: Record<string, unknown>;
}

export interface StateMachine {
  readonly ref: ResourceRef;
  readonly calls: readonly TaskCall[];
}

/** Reads the definition of every `AWS::StepFunctions::StateMachine` of the app. */
export function stateMachines(set: TemplateSet): StateMachine[] {
  return set.resources('AWS::StepFunctions::StateMachine').map((ref) => ({
    ref,
    calls: definitionCalls(definitionOf(set, ref)),
  }));
}

/** The definition of a state machine, its CloudFormation tokens resolved to markers. */
export function definitionOf(set: TemplateSet, ref: ResourceRef): Record<string, unknown> {
  const props = ref.resource.Properties ?? {};
  if (props.Definition && typeof props.Definition === 'object') {
    return set.resolve(ref.stack, props.Definition) as Record<string, unknown>;
  }
  let text = set.resolveString(ref.stack, props.DefinitionString);
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(substitutions)) {
    text = text.split('${' + name + '}').join(set.resolveString(ref.stack, value));
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${ref.stack.stackName}/${ref.logicalId}: the state machine definition is not JSON`);
  }
}

/** Every call of a definition, nested Map and Parallel states included. */
export function definitionCalls(definition: Record<string, unknown>, prefix = 'States'): TaskCall[] {
  const calls: TaskCall[] = [];
  const states = (definition.States ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    const at = `${prefix}/${name}`;
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      const key = state.Arguments !== undefined ? 'Arguments' : 'Parameters';
      calls.push({
        state: name,
        path: `${at}/${key}`,
        integration: parseIntegration(state.Resource),
        parameters: normalizeParameters(state[key]),
      });
    }
    if (state.Type === 'Map') {
      for (const part of ['ItemReader', 'ResultWriter'] as const) {
        const io = state[part] as
          { Resource?: string; Parameters?: unknown; Arguments?: unknown } | undefined;
        if (io?.Resource) {
          calls.push({
            state: `${name}.${part}`,
            path: `${at}/${part}`,
            integration: parseIntegration(io.Resource),
            parameters: normalizeParameters(io.Parameters ?? io.Arguments),
          });
        }
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
      if (processor) calls.push(...definitionCalls(processor, `${at}/ItemProcessor/States`));
    }
    if (state.Type === 'Parallel') {
      ((state.Branches ?? []) as Array<Record<string, unknown>>).forEach((branch, i) =>
        calls.push(...definitionCalls(branch, `${at}/Branches/${i}/States`)),
      );
    }
  }
  return calls;
}

export function parseIntegration(resource: string): Integration {
  const service = /^arn:[^:]+:states:::([^:]+):(.+)$/.exec(resource);
  if (service) {
    if (service[1] === 'aws-sdk') {
      const [sdkService, rest] = service[2].split(/:(.*)/s);
      const [operation, pattern = ''] = rest.split(/\.(.*)/s);
      return { kind: 'sdk', service: sdkService, operation, pattern };
    }
    const [operation, pattern = ''] = service[2].split(/\.(.*)/s);
    return { kind: 'optimized', service: service[1], operation, pattern };
  }
  if (/^arn:[^:]+:lambda:/.test(resource)) return { kind: 'function', functionArn: resource };
  return { kind: 'other', resource };
}

/** `{"A.$": "$.x", "B": {...}}` becomes `{A: UNKNOWN, B: {...}}`, recursively. */
export function normalizeParameters(value: unknown): Record<string, unknown> {
  const normalized = normalize(value);
  return normalized && typeof normalized === 'object' && !Array.isArray(normalized)
    ? (normalized as Record<string, unknown>)
    : {};
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') {
    // JSONata expressions are evaluated at run time.
    return typeof value === 'string' && /^\{%.*%\}$/s.test(value) ? UNKNOWN : value;
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      k.endsWith('.$') ? [k.slice(0, -2), UNKNOWN] : [k, normalize(v)],
    ),
  );
}

/** The calls of a state machine that make one SageMaker API request, whatever the integration. */
export function sagemakerCalls(machine: StateMachine, operation: string): TaskCall[] {
  return machine.calls.filter(
    (c) =>
      (c.integration.kind === 'sdk' || c.integration.kind === 'optimized') &&
      c.integration.service === 'sagemaker' &&
      c.integration.operation.toLowerCase() === operation.toLowerCase(),
  );
}
