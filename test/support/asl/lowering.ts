/**
 * Rewrites the states `aws-local-stepfunctions` 3.0.0 cannot run into Task states answered by the
 * harness, keeping each state's name, transitions, `Retry` and `Catch`:
 *
 * - A JSONata state (`QueryLanguage: JSONata`; only `Pass` is supported) becomes a Task whose
 *   parameters are `{ input: $, context: $$ }`; the harness evaluates its `Output` with `jsonata`
 *   against `$states.input` and `$states.context` (see `jsonata.ts`).
 * - A Distributed Map (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`) becomes a Task whose
 *   parameters are `{ input: $, context: $$, reader: <ItemReader.Parameters> }`, so the
 *   interpreter resolves the reader's paths. The harness then does what the Map Run does (see
 *   `distributed-map.ts`): calls the reader's resource, runs the `ItemSelector` and the
 *   `ItemProcessor` once per item as a child execution, applies the tolerated failure threshold,
 *   and records what the `ResultWriter` writes. The interpreter's own Map cannot stand in: it has
 *   no `ItemReader`, and it fails with the first failing item's error where a Distributed Map
 *   fails with `States.ExceedToleratedFailureThreshold`.
 *
 * Everything else is left as synthesized. A state the harness cannot lower is an error, never a
 * silent pass-through.
 */
import { allStates, type AslDefinition, type AslState } from './types';

export const JSONATA_RESOURCE = 'arn:aws:states:::harness:jsonata';
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::harness:distributedMap';

export interface LoweredDefinition {
  /** The definition the interpreter runs. */
  readonly definition: AslDefinition;
  /** The original JSONata states, by name. */
  readonly jsonataStates: ReadonlyMap<string, AslState>;
  /** The original Distributed Map states, by name. */
  readonly distributedMaps: ReadonlyMap<string, AslState>;
}

/** Fields every lowered state keeps: how it is entered, left, retried and caught. */
const TRANSITION_FIELDS = ['Next', 'End', 'Comment'];
const JSONPATH_IO_FIELDS = ['InputPath', 'ResultPath', 'ResultSelector', 'OutputPath', 'Retry', 'Catch'];

export function lowerDefinition(definition: AslDefinition): LoweredDefinition {
  if (definition.QueryLanguage === 'JSONata') {
    throw new Error('the harness lowers single JSONata states, not a definition whose default is JSONata');
  }
  const jsonataStates = new Map<string, AslState>();
  const distributedMaps = new Map<string, AslState>();
  const lowerStates = (states: Record<string, AslState>): Record<string, AslState> =>
    Object.fromEntries(
      Object.entries(states).map(([name, state]) => {
        if (state.QueryLanguage === 'JSONata') {
          remember(jsonataStates, name, state);
          return [name, lowerJsonata(name, state)];
        }
        if (isDistributedMap(state)) {
          remember(distributedMaps, name, state);
          return [name, lowerDistributedMap(name, state)];
        }
        if (state.ItemReader || state.ResultWriter) {
          throw new Error(`${name}: ItemReader or ResultWriter on an inline Map is not valid ASL`);
        }
        const processor = state.ItemProcessor as AslDefinition | undefined;
        if (processor)
          return [name, { ...state, ItemProcessor: { ...processor, States: lowerStates(processor.States) } }];
        return [name, state];
      }),
    );
  // Distributed Map processors are lowered too: their child executions run in the interpreter.
  const lowered = { ...definition, States: lowerStates(definition.States) };
  for (const map of distributedMaps.values()) {
    const processor = map.ItemProcessor as AslDefinition;
    (map as Record<string, unknown>).ItemProcessor = { ...processor, States: lowerStates(processor.States) };
  }
  return { definition: lowered, jsonataStates, distributedMaps };
}

function remember(table: Map<string, AslState>, name: string, state: AslState): void {
  // Local handlers are keyed by state name, in the parent and in child executions alike.
  if (table.has(name)) throw new Error(`two lowered states are named ${name}`);
  table.set(name, { ...state });
}

function isDistributedMap(state: AslState): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  return state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

function pick(state: AslState, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((field) => field in state).map((field) => [field, state[field]]));
}

function lowerJsonata(name: string, state: AslState): AslState {
  const supported = new Set(['Type', 'QueryLanguage', 'Output', ...TRANSITION_FIELDS]);
  const unsupported = Object.keys(state).filter((field) => !supported.has(field));
  if (state.Type !== 'Pass' || unsupported.length > 0) {
    throw new Error(
      `${name}: the harness evaluates JSONata Pass states with Output only (${state.Type}; ${unsupported.join(', ')})`,
    );
  }
  return {
    Type: 'Task',
    Resource: JSONATA_RESOURCE,
    Parameters: { 'input.$': '$', 'context.$': '$$' },
    ...pick(state, TRANSITION_FIELDS),
  };
}

function lowerDistributedMap(name: string, state: AslState): AslState {
  const handled = new Set([
    'Type',
    'ItemProcessor',
    'ItemReader',
    'ItemSelector',
    'ItemsPath',
    'MaxConcurrency',
    'ToleratedFailurePercentage',
    'ToleratedFailureCount',
    'ResultWriter',
    'Label',
    ...TRANSITION_FIELDS,
    ...JSONPATH_IO_FIELDS,
  ]);
  const unsupported = Object.keys(state).filter((field) => !handled.has(field));
  if (unsupported.length > 0) {
    throw new Error(`${name}: the harness does not lower Distributed Map fields ${unsupported.join(', ')}`);
  }
  const reader = state.ItemReader as { Parameters?: unknown; ReaderConfig?: unknown } | undefined;
  if (reader?.ReaderConfig) throw new Error(`${name}: ItemReader.ReaderConfig is not modelled`);
  return {
    Type: 'Task',
    Resource: DISTRIBUTED_MAP_RESOURCE,
    Parameters: {
      'input.$': '$',
      'context.$': '$$',
      ...(reader?.Parameters ? { reader: reader.Parameters } : {}),
    },
    ...pick(state, [...TRANSITION_FIELDS, ...JSONPATH_IO_FIELDS]),
  };
}

/** The names of every Wait state and of every state with a `Retry`, nested ones included. */
export function timedStates(definition: AslDefinition): { waits: string[]; retries: string[] } {
  const waits: string[] = [];
  const retries: string[] = [];
  for (const [name, state] of allStates(definition)) {
    if (state.Type === 'Wait') waits.push(name);
    if (state.Retry) retries.push(name);
  }
  return { waits, retries };
}
