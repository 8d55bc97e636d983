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

/**
 * A training pipeline's states after a promotion, which a design may add: from the InService branch
 * of DeploymentStatus to the champion's record (none for a design without such a step).
 */
export function afterPromotionStates(definition: { readonly States: Record<string, object> }): string[] {
  const states = definition.States as Record<string, { Next?: string; Choices?: { Next: string }[] }>;
  const found: string[] = [];
  let name = states.DeploymentStatus.Choices?.[0].Next;
  while (name && !['RecordChampion', 'ChampionModel'].includes(name) && found.length < 20) {
    found.push(name);
    name = states[name].Next;
  }
  return found;
}
