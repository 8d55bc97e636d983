import type { Requirements } from './requirements';

/** One A/B variant of the model endpoint and the share of users it serves. */
export interface AbVariant {
  /** Production variant name on the endpoint; letters, digits, `_`, `.` and `-`. */
  readonly name: string;
  /** Relative share of users; shares need not sum to 1. */
  readonly weight: number;
}

/** An ML system design: its requirements and the choices the infrastructure needs from it. */
export interface Design {
  /** Short kebab-case id, picked with `-c design=...`; prefixes stack names. */
  readonly id: string;
  /** One line for stack descriptions. */
  readonly summary: string;
  readonly requirements: Requirements;
  /** The A/B split of model traffic; the first variant is the champion. */
  readonly abVariants: readonly AbVariant[];
}
