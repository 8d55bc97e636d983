/**
 * Runs a deployed state machine definition in `aws-local-stepfunctions`, every Task answered by a
 * stub that validates the request against the service's API model, records it, and returns what
 * the test's responder returns (itself checked against the operation's output members).
 *
 * - Waits and retry intervals are overridden to zero (the interpreter's `waitTimeOverrides` and
 *   `retryIntervalOverrides`), so a 1-minute poll loop or a 5-second backoff costs nothing.
 * - A run that keeps calling past `maxCalls`, or outlives `deadlineMs`, is aborted and reported
 *   as such, never left spinning until the state machine's own timeout.
 * - Responders are keyed by state name; the Map Run of a Distributed Map state `S` also asks
 *   `S.ItemReader` (S3 ListObjectsV2) and, optionally, `S.ResultWriter` (S3 PutObject).
 */
import './polyfill';
import {
  ExecutionAbortedError,
  StateMachine,
  type RunOptions as InterpreterRunOptions,
} from 'aws-local-stepfunctions';
import { outputMembers, validateRequest } from './api-model';
import { runDistributedMap, type MapRun } from './distributed-map';
import { integrationOf, StepFunctionsError, type Integration } from './integrations';
import { evaluateJsonataTemplate } from './jsonata';
import {
  DISTRIBUTED_MAP_RESOURCE,
  JSONATA_RESOURCE,
  lowerDefinition,
  timedStates,
  type LoweredDefinition,
} from './lowering';
import { FAKE_ACCOUNT, FAKE_REGION } from './cfn';
import { allStates, type AslDefinition, type AslState } from './types';

/** A state machine as deployed: its ARN, name and resolved definition. */
export interface DeployedStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly definition: AslDefinition;
}

export interface CallInfo {
  /** The state that calls (`S.ItemReader` / `S.ResultWriter` for a Map Run's own calls). */
  readonly state: string;
  /** 1 for the first call this state makes in the run (within one map item), 2 for the next... */
  readonly attempt: number;
  /** Index of the Distributed Map item whose child execution calls, if any. */
  readonly mapItem?: number;
}

/** Answers a call: returns the API response, or throws a `StepFunctionsError`. */
export type Responder = (request: any, call: CallInfo) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RecordedCall {
  readonly state: string;
  readonly service: string;
  readonly operation: string;
  readonly request: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly mapItem?: number;
  /** The error the call raised, if it did. */
  error?: string;
}

export interface Publication {
  readonly state: string;
  readonly topicArn: string;
  readonly subject?: string;
  /** The message, parsed when it is JSON. */
  readonly message: unknown;
}

export interface Problem {
  readonly state: string;
  readonly service: string;
  readonly operation: string;
  readonly problems: readonly { path: string; message: string }[];
}

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Every service call, in order, including those that failed. */
  readonly calls: RecordedCall[];
  /** SNS messages published. */
  readonly published: Publication[];
  /** States the execution entered, in order (child executions of Map Runs not included). */
  readonly entered: string[];
  readonly retried: { state: string; error: string; mapItem?: number }[];
  readonly caught: { state: string; error: string }[];
  readonly mapRuns: MapRun[];
  /** Requests that failed the API model: the definition is wrong. */
  readonly invalidRequests: Problem[];
  /** Responses with members the operation's output does not have: the test's stub is wrong. */
  readonly invalidResponses: Problem[];
  /** The harness could not answer (no responder, runaway run): the test is wrong. */
  readonly harnessErrors: string[];
}

export interface RunOptions {
  readonly input?: unknown;
  readonly responders: Readonly<Record<string, Responder>>;
  /**
   * `$states.context.Execution.StartTime` as JSONata states see it. (The interpreter stamps
   * `$$.Execution.StartTime` of JSONPath states with the wall clock; none of the app's reads it.)
   * @default now
   */
  readonly startTime?: string;
  /** @default a fixed name */
  readonly executionName?: string;
  /** Service calls after which the run is aborted as runaway. @default 200 */
  readonly maxCalls?: number;
  /** Wall-clock limit of the run. @default 10 s */
  readonly deadlineMs?: number;
}

/** Runs `machine` to its end with the given responders. */
export async function runStateMachine(
  machine: DeployedStateMachine,
  options: RunOptions,
): Promise<ExecutionResult> {
  const lowered = lowerDefinition(machine.definition);
  const executionName = options.executionName ?? 'harness-execution-0001';
  const executionArn = `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:execution:${machine.name}:${executionName}`;
  const startTime = options.startTime ?? new Date().toISOString();
  const context = {
    Execution: {
      Id: executionArn,
      Name: executionName,
      RoleArn: `arn:aws:iam::${FAKE_ACCOUNT}:role/${machine.name}-Role`,
      StartTime: startTime,
    },
    StateMachine: { Id: machine.arn, Name: machine.name },
  };
  const run = new Run(machine, lowered, options, startTime);
  const result = await run.execute(options.input ?? {}, context);
  return result;
}

interface Child {
  abort(): void;
}

type LocalHandlers = NonNullable<
  NonNullable<InterpreterRunOptions['overrides']>['taskResourceLocalHandlers']
>;
type EventLogs = ReturnType<StateMachine['run']>['eventLogs'];
type Json = Parameters<LocalHandlers[string]>[0];

class Run {
  private readonly calls: RecordedCall[] = [];
  private readonly published: Publication[] = [];
  private readonly retried: { state: string; error: string; mapItem?: number }[] = [];
  private readonly caught: { state: string; error: string }[] = [];
  private readonly entered: string[] = [];
  private readonly mapRuns: MapRun[] = [];
  private readonly invalidRequests: Problem[] = [];
  private readonly invalidResponses: Problem[] = [];
  private readonly harnessErrors: string[] = [];
  private readonly executions: Child[] = [];
  private readonly overrides: {
    waitTimeOverrides: Record<string, number>;
    retryIntervalOverrides: Record<string, number>;
  };
  private readonly maxCalls: number;
  private aborted = false;

  constructor(
    private readonly machine: DeployedStateMachine,
    private readonly lowered: LoweredDefinition,
    private readonly options: RunOptions,
    private readonly startTime: string,
  ) {
    this.maxCalls = options.maxCalls ?? 200;
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    const definitions = [
      lowered.definition,
      ...[...lowered.distributedMaps.values()].map((map) => map.ItemProcessor as AslDefinition),
    ];
    for (const definition of definitions) {
      const { waits, retries } = timedStates(definition);
      for (const name of waits) waitTimeOverrides[name] = 0;
      for (const name of retries) retryIntervalOverrides[name] = 0;
    }
    this.overrides = { waitTimeOverrides, retryIntervalOverrides };
  }

  public async execute(input: unknown, context: Record<string, unknown>): Promise<ExecutionResult> {
    const deadlineMs = this.options.deadlineMs ?? 10_000;
    const outcome = await this.runDefinition(this.lowered.definition, input, context, undefined, deadlineMs);
    return {
      ...outcome,
      calls: this.calls,
      published: this.published,
      entered: this.entered,
      retried: this.retried,
      caught: this.caught,
      mapRuns: this.mapRuns,
      invalidRequests: this.invalidRequests,
      invalidResponses: this.invalidResponses,
      harnessErrors: this.harnessErrors,
    };
  }

  /** Runs a (lowered) definition: the execution itself, or a Map Run's child execution. */
  private async runDefinition(
    definition: AslDefinition,
    input: unknown,
    context: Record<string, unknown>,
    mapItem: number | undefined,
    deadlineMs: number,
  ): Promise<{ status: ExecutionResult['status']; output?: unknown; error?: string; cause?: string }> {
    const stateMachine = newStateMachine(definition);
    const execution = stateMachine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.handlers(definition, mapItem), ...this.overrides },
      context: context as never,
    });
    this.executions.push(execution);
    if (this.aborted) execution.abort();
    const events = this.collectEvents(execution.eventLogs, mapItem);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    try {
      const settled = await Promise.race([
        execution.result.then(
          (output) => ({ output }),
          (error: unknown) => ({ error }),
        ),
        deadline,
      ]);
      if (settled === 'deadline') {
        this.harnessErrors.push(`the run did not end within ${deadlineMs} ms`);
        this.abortAll();
        return { status: 'ABORTED' };
      }
      await events;
      if ('output' in settled) return { status: 'SUCCEEDED', output: settled.output };
      if (settled.error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
      const cause = (settled.error as Error).cause as Error | undefined;
      if (!cause) throw settled.error;
      return { status: 'FAILED', error: cause.name, cause: cause.message };
    } finally {
      clearTimeout(timer);
    }
  }

  private async collectEvents(events: EventLogs, mapItem: number | undefined): Promise<void> {
    const lastError = new Map<string, string>();
    for await (const event of events) {
      if (!('state' in event)) continue;
      const state = event.state.name;
      const error = lastError.get(state) ?? '(unknown)';
      if (event.type === 'StateEntered' && mapItem === undefined) this.entered.push(state);
      if (event.type === 'StateFailed') lastError.set(state, event.Error);
      if (event.type === 'StateRetried')
        this.retried.push({ state, error, ...(mapItem === undefined ? {} : { mapItem }) });
      if (event.type === 'StateCaught' && mapItem === undefined) this.caught.push({ state, error });
    }
  }

  private abortAll(): void {
    this.aborted = true;
    for (const execution of this.executions) execution.abort();
  }

  /** One local handler per Task state of `definition`. */
  private handlers(definition: AslDefinition, mapItem: number | undefined): LocalHandlers {
    const handlers: LocalHandlers = {};
    // Tasks inside an inline Map run in the same interpreter and are answered by name too. A
    // Distributed Map is lowered to a Task by now: its processor runs as child executions.
    for (const [name, state] of allStates(definition)) {
      if (state.Type !== 'Task') continue;
      const handle = this.handler(name, state, mapItem);
      // A step function error goes where the definition routes it; anything else is the harness's
      // or the test's own fault, and must not be caught by a States.ALL catcher.
      handlers[name] = async (input) => {
        try {
          return (await handle(input)) as Json;
        } catch (error) {
          if (!(error instanceof StepFunctionsError)) {
            this.harnessErrors.push(
              `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
            );
            this.abortAll();
          }
          throw error;
        }
      };
    }
    return handlers;
  }

  private handler(
    name: string,
    state: AslState,
    mapItem: number | undefined,
  ): (input: unknown) => Promise<unknown> {
    const resource = String(state.Resource);
    if (resource === JSONATA_RESOURCE) {
      const original = this.lowered.jsonataStates.get(name) as AslState;
      return async (parameters) => {
        const { input, context } = parameters as { input: unknown; context: Record<string, unknown> };
        // The interpreter stamps StartTime with the wall clock; JSONata sees the run's start time.
        const execution = { ...(context.Execution as Record<string, unknown>), StartTime: this.startTime };
        const value = await evaluateJsonataTemplate(original.Output, {
          input,
          context: { ...context, Execution: execution },
        });
        return JSON.parse(JSON.stringify(value ?? null));
      };
    }
    if (resource === DISTRIBUTED_MAP_RESOURCE) {
      const original = this.lowered.distributedMaps.get(name) as AslState;
      return async (parameters) => {
        const mapRun = await runDistributedMap(name, original, parameters as never, {
          stateMachineName: this.machine.name,
          call: (slot, integration, request) =>
            this.call(`${name}.${slot}`, integration, request, mapItem, slot === 'ResultWriter'),
          evaluate: (template, input, context) => this.evaluatePayload(template, input, context),
          runChild: (processor, input, context, index) =>
            this.runDefinition(processor, input, context, index, this.options.deadlineMs ?? 10_000),
        });
        this.mapRuns.push(mapRun);
        if (mapRun.failure) throw mapRun.failure;
        return mapRun.output;
      };
    }
    const integration = integrationOf(resource);
    return (parameters) =>
      this.call(name, integration, integration.request(parameters), mapItem, false).then(integration.result);
  }

  /** One service call: validated, recorded, answered by the state's responder. */
  private async call(
    state: string,
    integration: Integration,
    request: unknown,
    mapItem: number | undefined,
    optional: boolean,
  ): Promise<unknown> {
    // Lets timers (the deadline) run between calls of a loop that never waits.
    await new Promise((resolve) => setImmediate(resolve));
    const { service, operation } = integration;
    if (this.calls.length >= this.maxCalls) {
      this.harnessErrors.push(
        `more than ${this.maxCalls} service calls: the run does not end (last: ${state})`,
      );
      this.abortAll();
      throw new StepFunctionsError('Harness.RunawayExecution', `more than ${this.maxCalls} calls`);
    }
    const attempt = this.calls.filter((call) => call.state === state && call.mapItem === mapItem).length + 1;
    const recorded: RecordedCall = {
      state,
      service,
      operation,
      request,
      ...(mapItem === undefined ? {} : { mapItem }),
    };
    this.calls.push(recorded);
    const problems = validateRequest(service, operation, request);
    if (problems.length > 0) {
      this.invalidRequests.push({ state, service, operation, problems });
      // The service would reject the request.
      recorded.error = `${integration.errorPrefix}.ValidationException`;
      throw new StepFunctionsError(recorded.error, problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    }
    const responder = this.options.responders[state];
    let response: unknown;
    if (!responder) {
      if (!optional) {
        this.harnessErrors.push(`no responder for ${state} (${service} ${operation})`);
        this.abortAll();
        throw new StepFunctionsError('Harness.NoResponder', state);
      }
      response = {};
    } else {
      try {
        response = await responder(request, {
          state,
          attempt,
          ...(mapItem === undefined ? {} : { mapItem }),
        });
      } catch (error) {
        if (error instanceof StepFunctionsError) recorded.error = error.error;
        throw error;
      }
    }
    this.checkResponse(state, integration, response);
    if (service === 'sns' && operation === 'Publish') {
      const { TopicArn, Subject, Message } = request as {
        TopicArn: string;
        Subject?: string;
        Message: string;
      };
      this.published.push({ state, topicArn: TopicArn, subject: Subject, message: parseJson(Message) });
    }
    return JSON.parse(JSON.stringify(response ?? null));
  }

  private checkResponse(state: string, integration: Integration, response: unknown): void {
    if (integration.kind === 'lambda-function') return; // a function returns any JSON
    const { service, responseOperation } = integration;
    const members = new Set(outputMembers(service, responseOperation));
    const unknown =
      response !== null && typeof response === 'object'
        ? Object.keys(response).filter((key) => !members.has(key))
        : ['(not an object)'];
    if (unknown.length > 0) {
      this.invalidResponses.push({
        state,
        service,
        operation: responseOperation,
        problems: unknown.map((key) => ({
          path: key,
          message: `not a member of ${responseOperation}'s output`,
        })),
      });
    }
  }

  /** Evaluates a JSONPath payload template (`ItemSelector`) as the interpreter does. */
  private async evaluatePayload(
    template: unknown,
    input: unknown,
    context: Record<string, unknown>,
  ): Promise<unknown> {
    const machine = new StateMachine(
      { StartAt: 'Select', States: { Select: { Type: 'Pass', Parameters: template, End: true } } } as never,
      { validationOptions: { noValidate: true } },
    );
    return machine.run(input as never, { context: context as never }).result;
  }
}

/**
 * Definitions already checked by the interpreter's own validator (asl-validator), which takes
 * hundreds of milliseconds a time. ARNs are not checked: the lowered states name the harness.
 */
const validated = new Set<string>();

function newStateMachine(definition: AslDefinition): StateMachine {
  const key = JSON.stringify(definition);
  if (!validated.has(key)) {
    new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    validated.add(key);
  }
  return new StateMachine(definition as never, { validationOptions: { noValidate: true } });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every Task of `definition` (nested ones included) with the API operation it calls. */
export function taskIntegrations(
  definition: AslDefinition,
): { state: string; integration: Integration; parameters: unknown }[] {
  const tasks: { state: string; integration: Integration; parameters: unknown }[] = [];
  for (const [name, state] of allStates(definition)) {
    if (state.Type === 'Task') {
      tasks.push({
        state: name,
        integration: integrationOf(String(state.Resource)),
        parameters: state.Parameters ?? {},
      });
    }
    const reader = state.ItemReader as { Resource: string; Parameters?: unknown } | undefined;
    if (reader)
      tasks.push({
        state: `${name}.ItemReader`,
        integration: integrationOf(reader.Resource),
        parameters: reader.Parameters ?? {},
      });
    const writer = state.ResultWriter as
      { Resource: string; Parameters?: { Bucket?: unknown; Prefix?: unknown } } | undefined;
    if (writer) {
      // The writer's parameters are a bucket and a prefix; each object it writes is a PutObject.
      const { Prefix, ...rest } = writer.Parameters ?? {};
      tasks.push({
        state: `${name}.ResultWriter`,
        integration: integrationOf(writer.Resource),
        parameters: { ...rest, Key: `${String(Prefix ?? '')}map-run-id/manifest.json` },
      });
    }
  }
  return tasks;
}

/**
 * Validates every Task's `Parameters` (and every item reader and result writer) against the API
 * model, paths unresolved (`{ jsonPath: true }`): names and casing are checked on every branch,
 * including those no run reaches.
 */
export function validateDefinitionStatically(definition: AslDefinition): Problem[] {
  return taskIntegrations(definition).flatMap(({ state, integration, parameters }) => {
    const request = integration.request(parameters);
    const problems = validateRequest(integration.service, integration.operation, request, { jsonPath: true });
    return problems.length > 0
      ? [{ state, service: integration.service, operation: integration.operation, problems }]
      : [];
  });
}
