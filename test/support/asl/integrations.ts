/**
 * What a Task's `Resource` calls: the AWS API operation, the request Step Functions sends for the
 * state's effective parameters, and what the state receives back.
 */

export type IntegrationKind = 'aws-sdk' | 'optimized' | 'lambda-function';

export interface Integration {
  readonly kind: IntegrationKind;
  /** botocore service name, as the API models are filed: `sagemaker`, `s3`, `sns`, `lambda`. */
  readonly service: string;
  /** The operation called, in API casing: `CreateModelPackage`. */
  readonly operation: string;
  /**
   * The operation whose output the state receives: the same one, except for `.sync`, which waits
   * for the job and returns what its `Describe*` returns.
   */
  readonly responseOperation: string;
  /** Prefix of the errors this integration raises, as `Catch` and `Retry` see them. */
  readonly errorPrefix: string;
  /** The API request for the state's effective parameters. */
  request(parameters: unknown): unknown;
  /** The state's result for the API's response. */
  result(response: unknown): unknown;
}

/**
 * AWS SDK integration service names that differ from botocore's; the rest are the same.
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
 */
const SDK_TO_BOTOCORE: Record<string, string> = {
  sfn: 'stepfunctions',
  cloudwatchlogs: 'logs',
  eventbridge: 'events',
  sagemakerfeaturestoreruntime: 'sagemaker-featurestore-runtime',
  sagemakerruntime: 'sagemaker-runtime',
};

/**
 * Error names of the AWS SDK integrations are `ServiceName.ErrorName`, both in PascalCase
 * (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
 * Athena's are `Athena.<Code>` by that rule (`Athena.TooManyRequestsException`); the optimized
 * integration's page (https://docs.aws.amazon.com/step-functions/latest/dg/connect-athena.html)
 * lists no error names of its own, and state machines retry `Athena.<Code>` on it too.
 */
const ERROR_PREFIX: Record<string, string> = {
  athena: 'Athena',
  sagemaker: 'SageMaker',
  s3: 'S3',
  sns: 'SNS',
  lambda: 'Lambda',
  stepfunctions: 'Sfn',
  logs: 'CloudWatchLogs',
};

const identity = (value: unknown): unknown => value;
const upperFirst = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** The integration a Task's (resolved) `Resource` names; unknown resources are an error. */
export function integrationOf(resource: string): Integration {
  const lambdaArn = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.exec(resource);
  if (lambdaArn) {
    // A function ARN as the Resource: the state's parameters are the payload, the function's
    // result is the state's result.
    // https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
    return {
      kind: 'lambda-function',
      service: 'lambda',
      operation: 'Invoke',
      responseOperation: 'Invoke',
      errorPrefix: 'Lambda',
      request: (parameters) => ({ FunctionName: resource, Payload: JSON.stringify(parameters ?? {}) }),
      result: identity,
    };
  }
  const sdk = /^arn:aws[\w-]*:states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)(\.(sync|waitForTaskToken))?$/.exec(
    resource,
  );
  if (sdk) {
    const service = SDK_TO_BOTOCORE[sdk[1]] ?? sdk[1];
    if (sdk[3]) throw new Error(`${resource}: the harness does not model ${sdk[3]} on SDK integrations`);
    return {
      kind: 'aws-sdk',
      service,
      operation: upperFirst(sdk[2]),
      responseOperation: upperFirst(sdk[2]),
      errorPrefix: ERROR_PREFIX[service] ?? upperFirst(service),
      request: identity,
      result: identity,
    };
  }
  const optimized = /^arn:aws[\w-]*:states:::([a-z0-9]+):([a-zA-Z0-9]+)(\.(sync|waitForTaskToken))?$/.exec(
    resource,
  );
  if (optimized) return optimizedIntegration(resource, optimized[1], optimized[2], optimized[4]);
  throw new Error(`the harness does not know the Task resource ${resource}`);
}

function optimizedIntegration(
  resource: string,
  service: string,
  action: string,
  pattern?: string,
): Integration {
  const operation = upperFirst(action);
  const base = {
    kind: 'optimized' as const,
    service,
    operation,
    responseOperation: operation,
    errorPrefix: ERROR_PREFIX[service] ?? upperFirst(service),
    request: identity,
    result: identity,
  };
  if (pattern === 'waitForTaskToken') throw new Error(`${resource}: .waitForTaskToken is not modelled`);
  switch (`${service}:${action}`) {
    case 'sagemaker:createTrainingJob':
    case 'sagemaker:createTransformJob':
    case 'sagemaker:createProcessingJob':
    case 'sagemaker:createHyperParameterTuningJob':
      // The optimized SageMaker integration takes the API's request; `.sync` returns the job's
      // description once it has ended.
      // https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html
      return pattern === 'sync'
        ? { ...base, responseOperation: operation.replace(/^Create/, 'Describe') }
        : base;
    case 'athena:startQueryExecution':
      // The optimized Athena integration takes the API's request; `.sync` waits for the query to
      // end and returns what GetQueryExecution returns (`{ QueryExecution: { Status, Statistics,
      // ... } }`). https://docs.aws.amazon.com/step-functions/latest/dg/connect-athena.html
      return pattern === 'sync' ? { ...base, responseOperation: 'GetQueryExecution' } : base;
    case 'sns:publish':
      // The optimized SNS integration accepts a JSON value as `Message` and publishes its JSON
      // text. https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html
      return {
        ...base,
        request: (parameters) => {
          const request = { ...(parameters as Record<string, unknown>) };
          if (request.Message !== undefined && typeof request.Message !== 'string') {
            request.Message = JSON.stringify(request.Message);
          }
          return request;
        },
      };
    case 'lambda:invoke':
      // `Payload` may be JSON; the state receives the SDK response with the payload parsed.
      // https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
      return {
        ...base,
        request: (parameters) => {
          const request = { ...(parameters as Record<string, unknown>) };
          if (request.Payload !== undefined && typeof request.Payload !== 'string') {
            request.Payload = JSON.stringify(request.Payload);
          }
          return request;
        },
        result: (payload) => ({
          ExecutedVersion: '$LATEST',
          Payload: payload,
          StatusCode: 200,
        }),
      };
    case 's3:listObjectsV2':
    case 's3:getObject':
    case 's3:putObject':
      // Item readers and result writers of Distributed Map states.
      return base;
    default:
      throw new Error(`the harness does not model the optimized integration ${resource}`);
  }
}

/**
 * An error as Step Functions reports it to `Retry` and `Catch`: `Error` is the name matched by
 * `ErrorEquals`, `Cause` the text a catcher's `ResultPath` receives.
 */
export class StepFunctionsError extends Error {
  constructor(
    public readonly error: string,
    cause: string,
  ) {
    super(cause);
    this.name = error;
  }
}

/**
 * A service error of an integration, e.g. `serviceError('SageMaker.ThrottlingException')`; the
 * cause reads like the AWS SDK's message for it.
 */
export function serviceError(error: string, message = 'Rate exceeded'): StepFunctionsError {
  const [service, code] = error.includes('.')
    ? [error.slice(0, error.indexOf('.')), error.slice(error.indexOf('.') + 1)]
    : ['AWS', error];
  return new StepFunctionsError(
    error,
    `${message} (Service: ${service}, Status Code: 400, Error Code: ${code})`,
  );
}

/**
 * A function error of a Lambda task: `Error` is the function's `errorType`, `Cause` the JSON the
 * runtime reports. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
export function lambdaFunctionError(errorType: string, errorMessage: string): StepFunctionsError {
  return new StepFunctionsError(
    errorType,
    JSON.stringify({
      errorType,
      errorMessage,
      trace: [`${errorType}: ${errorMessage}`, '    at handler (/var/task/index.js:1:1)'],
    }),
  );
}
