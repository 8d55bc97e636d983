import { Duration } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** Errors worth retrying: throttling and transient service faults of the services the pipelines call. */
export const RETRYABLE_ERRORS = [
  'ThrottlingException',
  'SageMaker.ThrottlingException',
  'SageMaker.AmazonSageMakerException',
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.SdkClientException',
  'S3.SlowDownException',
];

export interface FailureHandlingProps {
  readonly topic: sns.ITopic;
  /** Subject of the failure notification. */
  readonly subject: string;
}

/**
 * The one failure path of a pipeline: record the error and cause, notify, fail. `guard(task)` gives
 * a task jittered exponential retries on throttling and routes any error it still raises here.
 */
export class FailureHandling extends Construct {
  /** The state that starts the failure path; expects the error under `$.error`. */
  public readonly start: sfn.Pass;
  public readonly retry: sfn.RetryProps = {
    errors: RETRYABLE_ERRORS,
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 5,
    jitterStrategy: sfn.JitterType.FULL,
  };

  constructor(scope: Construct, id: string, props: FailureHandlingProps) {
    super(scope, id);
    const notify = new tasks.SnsPublish(scope, 'NotifyFailure', {
      topic: props.topic,
      subject: props.subject,
      message: sfn.TaskInput.fromJsonPathAt('$.failure'),
      resultPath: sfn.JsonPath.DISCARD,
    });
    // No catch: a failure to notify still ends in the failed state.
    notify.addRetry(this.retry);
    this.start = new sfn.Pass(scope, 'RecordFailure', {
      parameters: {
        'error.$': '$.error.Error',
        'cause.$': '$.error.Cause',
        'execution.$': '$$.Execution.Id',
      },
      resultPath: '$.failure',
    });
    this.start
      .next(notify)
      .next(
        new sfn.Fail(scope, 'PipelineFailed', { causePath: '$.failure.cause', errorPath: '$.failure.error' }),
      );
  }

  /** Adds the retry policy and the catch-all to `task`, and returns it. */
  public guard<T extends sfn.TaskStateBase | sfn.CustomState | sfn.DistributedMap | sfn.Map>(task: T): T {
    task.addRetry(this.retry);
    task.addCatch(this.start, { resultPath: '$.error' });
    return task;
  }

  /** A state that fails the pipeline with `error` and a cause built from the state's input. */
  public failWith(id: string, error: string, causeExpression: string): sfn.Pass {
    const pass = new sfn.Pass(this.start.node.scope as Construct, id, {
      parameters: { Error: error, 'Cause.$': causeExpression },
      resultPath: '$.error',
    });
    pass.next(this.start);
    return pass;
  }
}
