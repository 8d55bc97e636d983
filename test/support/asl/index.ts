/**
 * Runs the app's synthesized state machines in `aws-local-stepfunctions`, with every Task answered
 * by a stub validated against the AWS API models. See `run.ts` for what a run records,
 * `lowering.ts` for what is rewritten before the interpreter sees it, and `cfn.ts` for the fake
 * deployment values.
 */
export {
  deployedStateMachines,
  deployedStateMachine,
  deployedValue,
  synthesizeApp,
  type SynthesizedApp,
} from './app';
export { FAKE_ACCOUNT, FAKE_REGION } from './cfn';
export { endpointRollOut } from './endpoint-roll-out';
export type { ChildExecution, MapRun, ResultWrite } from './distributed-map';
export { lambdaFunctionError, serviceError, StepFunctionsError } from './integrations';
export {
  runStateMachine,
  taskIntegrations,
  validateDefinitionStatically,
  type CallInfo,
  type DeployedStateMachine,
  type ExecutionResult,
  type Responder,
  type RunOptions,
} from './run';
export { afterPromotionStates, allStates, type AslDefinition, type AslState } from './types';
