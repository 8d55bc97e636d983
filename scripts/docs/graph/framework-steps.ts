/** The six steps of the ML system design framework, as the README names them. */
export const FRAMEWORK_STEPS = [
  { number: 1, title: 'Define the problem' },
  { number: 2, title: 'Data pipeline' },
  { number: 3, title: 'Model' },
  { number: 4, title: 'Train and evaluate' },
  { number: 5, title: 'Deploy and monitor' },
  { number: 6, title: 'Wrap up: bottlenecks and scaling' },
] as const;

export type StepNumber = (typeof FRAMEWORK_STEPS)[number]['number'];

/**
 * The step each stack role serves. The network and the account-wide settings serve every step and
 * carry none. A design that adds a stack of another role adds it here (a test checks that every
 * registered design's stacks are known).
 */
export const STACK_STEPS: Readonly<Record<string, StepNumber | null>> = {
  Account: null,
  Network: null,
  Data: 2,
  Etl: 2,
  Pipeline: 4,
  Ml: 5,
  Serving: 5,
  Monitoring: 5,
};

/** `2 Data pipeline`, or undefined for a role that serves every step. */
export function stepLabel(role: string): string | undefined {
  const step = STACK_STEPS[role];
  if (step === undefined)
    throw new Error(`no framework step for the stack role ${role}: add it to STACK_STEPS`);
  return step === null ? undefined : `${step} ${FRAMEWORK_STEPS[step - 1].title}`;
}
