/** Amazon States Language as the synthesized templates hold it: loosely typed on purpose. */
export type AslState = Record<string, unknown> & { readonly Type: string };

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: string;
  readonly Comment?: string;
}

/** Walks every state of a definition, nested Map processors and Parallel branches included. */
export function* allStates(definition: {
  readonly States: Record<string, AslState>;
}): Generator<[name: string, state: AslState]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state];
    const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (processor) yield* allStates(processor);
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) yield* allStates(branch);
  }
}
