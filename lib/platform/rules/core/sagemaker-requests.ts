import { sagemakerCalls, stateMachines, type StateMachine, type TaskCall } from './state-machines';
import type { ResourceRef, TemplateSet } from './templates';

/**
 * One SageMaker request, made either by CloudFormation (a resource's properties) or by a state
 * machine (a Task state's parameters). Both use the API's member names, so a rule reads them alike.
 */
export interface SageMakerRequest {
  /** The resource that makes the request: the SageMaker resource, or the state machine. */
  readonly ref: ResourceRef;
  /** Where the request sits in that resource. */
  readonly location: string;
  /** The request, resolved (see `TemplateSet.resolve` and `normalizeParameters`). */
  readonly params: Record<string, unknown>;
  /** Set when a state machine makes the request. */
  readonly machine?: StateMachine;
  readonly call?: TaskCall;
}

const CFN_TYPES: Record<string, string> = {
  CreateEndpointConfig: 'AWS::SageMaker::EndpointConfig',
  CreateModel: 'AWS::SageMaker::Model',
  CreateEndpoint: 'AWS::SageMaker::Endpoint',
};

/**
 * Every request of an operation in the app. Reading the state machines is done once per set.
 */
export function sagemakerRequests(set: TemplateSet, operation: string): SageMakerRequest[] {
  const fromCfn: SageMakerRequest[] = CFN_TYPES[operation]
    ? set.resources(CFN_TYPES[operation]).map((ref) => ({
        ref,
        location: 'Properties',
        params: (set.resolve(ref.stack, ref.resource.Properties ?? {}) ?? {}) as Record<string, unknown>,
      }))
    : [];
  const fromMachines = machinesOf(set).flatMap((machine) =>
    sagemakerCalls(machine, operation).map((call) => ({
      ref: machine.ref,
      location: call.path,
      params: call.parameters,
      machine,
      call,
    })),
  );
  return [...fromCfn, ...fromMachines];
}

const machineCache = new WeakMap<TemplateSet, StateMachine[]>();

export function machinesOf(set: TemplateSet): StateMachine[] {
  let machines = machineCache.get(set);
  if (!machines) {
    machines = stateMachines(set);
    machineCache.set(set, machines);
  }
  return machines;
}

export function variantsOf(params: Record<string, unknown>): Array<Record<string, unknown>> {
  const variants = params.ProductionVariants;
  return Array.isArray(variants) ? (variants.filter((v) => v && typeof v === 'object') as never) : [];
}

/**
 * The models an endpoint config serves. In a template: the `AWS::SageMaker::Model` its variants
 * name. In a state machine: every CreateModel of the same definition (a model name there is
 * usually a JSONPath, known only at run time).
 */
export function modelsServedBy(set: TemplateSet, config: SageMakerRequest): SageMakerRequest[] {
  const models = sagemakerRequests(set, 'CreateModel');
  if (config.machine) return models.filter((m) => m.machine === config.machine);
  const named = variantsOf(config.params)
    .map((v) => set.resourceNamedBy(v.ModelName, 'AWS::SageMaker::Model'))
    .filter((ref): ref is ResourceRef => ref !== undefined);
  return models.filter((m) => !m.machine && named.some((ref) => sameResource(ref, m.ref)));
}

/** The endpoint config an `AWS::SageMaker::Endpoint` deploys. */
export function configOfEndpoint(set: TemplateSet, endpoint: ResourceRef): SageMakerRequest | undefined {
  const name = set.resolve(endpoint.stack, endpoint.resource.Properties?.EndpointConfigName);
  const config = set.resourceNamedBy(name, 'AWS::SageMaker::EndpointConfig');
  return config
    ? sagemakerRequests(set, 'CreateEndpointConfig').find((r) => sameResource(r.ref, config))
    : undefined;
}

export function sameResource(a: ResourceRef, b: ResourceRef): boolean {
  return a.logicalId === b.logicalId && a.stack.stackName === b.stack.stackName;
}

export function isServerless(config: SageMakerRequest): boolean {
  return variantsOf(config.params).some((v) => v.ServerlessConfig !== undefined);
}

/** How a finding names a request: `task Train` or `EndpointConfig InitialConfig1234`. */
export function describeRequest(request: SageMakerRequest): string {
  return request.call
    ? `task ${request.call.state}`
    : `${request.ref.resource.Type.split('::')[2]} ${request.ref.logicalId}`;
}
