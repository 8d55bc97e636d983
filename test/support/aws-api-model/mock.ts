/**
 * aws-sdk-client-mock's `mockClient`, plus a check of every command sent through the mocked
 * client against the pinned API model of its service (test/aws-api-models).
 *
 * A command whose input breaks the model is not passed to the mock's behaviours: `send` rejects
 * with an Error naming the service, operation and member path, as the real service would answer
 * with a ValidationException. The problem is also recorded, and an afterEach hook fails the test
 * that sent it, so code that catches and swallows the rejection cannot hide it.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { botocoreServiceOf } from './sdk-services';
import { formatProblems, validateRequest } from './validate';

/** A request that broke the model: the test that sent it fails. */
export interface RecordedProblem {
  service: string;
  operation: string;
  message: string;
}

const recorded: RecordedProblem[] = [];

/** Returns and forgets the problems recorded so far (for tests of this module). */
export function takeRecordedProblems(): RecordedProblem[] {
  return recorded.splice(0, recorded.length);
}

/** Thrown (as a rejection of `send`) for a command that does not match its API model. */
export class ApiModelValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiModelValidationError';
  }
}

type SendFunction = (this: unknown, ...args: unknown[]) => unknown;
interface StubInternals {
  /** The mocked prototype or instance (a private field of AwsStub). */
  client: { send: SendFunction };
  send: SendFunction & { restore(): void };
  reset(): unknown;
}

/**
 * `mockClient(Client)` whose `send` validates each command's input against the service's API
 * model before the configured behaviour runs. Same arguments and return value as `mockClient`.
 */
export const apiCheckedMockClient: typeof mockClient = (client, options) => {
  const service = botocoreServiceOf(client);
  const stub = mockClient(client, options);
  const internals = stub as unknown as StubInternals;
  install(internals, service);
  // AwsStub#reset() re-creates the sinon stub through the plain mockClient: check that one too.
  internals.reset = function reset(this: StubInternals) {
    this.send = (mockClient(client, options) as unknown as StubInternals).send;
    install(this, service);
    return this;
  };
  return stub;
};

/** Puts a checking `send` in front of the sinon stub; the stub keeps the history and behaviours. */
function install(stub: StubInternals, service: string): void {
  const sinonStub = stub.send;
  const checked = function checkedSend(this: unknown, ...args: unknown[]): unknown {
    const command = args[0] as { input?: unknown; constructor?: { name?: string } } | undefined;
    const error = check(service, command);
    if (!error) return sinonStub.apply(this, args);
    const callback = args[args.length - 1];
    if (typeof callback === 'function') {
      callback(error);
      return undefined;
    }
    return Promise.reject(error);
  };
  // Marked as a sinon stub, so a later mockClient() of the same client restores it as one.
  Object.assign(checked, { isSinonProxy: true, restore: () => sinonStub.restore() });
  stub.client.send = checked;
}

function check(
  service: string,
  command: { input?: unknown; constructor?: { name?: string } } | undefined,
): ApiModelValidationError | undefined {
  const className = command?.constructor?.name ?? '';
  if (!className.endsWith('Command')) {
    return record(service, '?', `send() was given ${className || String(command)}, not an SDK Command`);
  }
  const operation = className.slice(0, -'Command'.length);
  const problems = validateRequest(service, operation, command!.input);
  if (problems.length === 0) return undefined;
  return record(service, operation, formatProblems(service, operation, problems));
}

function record(service: string, operation: string, message: string): ApiModelValidationError {
  recorded.push({ service, operation, message });
  return new ApiModelValidationError(message);
}

/** Throws (once) when commands broke the model since the last check; the afterEach hook runs it. */
export function assertNoRecordedProblems(): void {
  const problems = takeRecordedProblems();
  if (problems.length === 0) return;
  const distinct = [...new Set(problems.map((p) => p.message))];
  throw new ApiModelValidationError(
    `${problems.length} SDK call(s) sent through a mocked client broke the API model ` +
      `(test/aws-api-models), even if the code under test caught the error:\n${distinct.join('\n')}`,
  );
}

// Registered once per test file (jest gives each file its own module registry). Outside jest
// (the ETL benchmark loads test/support/pipeline.ts) the rejection of `send` is the only signal.
if (typeof afterEach === 'function' && typeof afterAll === 'function') {
  afterEach(assertNoRecordedProblems);
  afterAll(assertNoRecordedProblems);
}
