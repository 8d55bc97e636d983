import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { ARTIFACT_PREFIXES, TRAINING_OUTPUT_FILES } from '../artifact-layout';
import { OUTPUT_ARCHIVE_KEY, RUN, type PipelineScope } from './run-state';

export interface EvaluateStepProps {
  /** The evaluation gate (`lambda/platform/evaluation-gate/`), its policy in its environment. */
  readonly gate: lambda.IFunction;
  readonly artifacts: s3.IBucket;
}

/**
 * Evaluate: the gate function reads the candidate's metrics from the run's `output.tar.gz` and the
 * champion's from `champion/`, and answers promote, reject or invalid, with the metadata the
 * registry will record.
 */
export class EvaluateStep {
  public readonly task: tasks.LambdaInvoke;

  constructor(
    private readonly pipeline: PipelineScope,
    props: EvaluateStepProps,
  ) {
    this.task = pipeline.guard(
      new tasks.LambdaInvoke(pipeline.scope, 'Evaluate', {
        comment: 'The candidate must beat the champion and the baseline, in the metric direction',
        lambdaFunction: props.gate,
        payload: sfn.TaskInput.fromObject({
          bucket: props.artifacts.bucketName,
          'trainingJob.$': RUN.trainingJob,
          'candidateOutputKey.$': OUTPUT_ARCHIVE_KEY,
          championMetricsKey: `${ARTIFACT_PREFIXES.champion}${TRAINING_OUTPUT_FILES.metrics}`,
        }),
        payloadResponseOnly: true,
        resultPath: RUN.gate,
      }),
    );
  }

  /**
   * GateDecision: `promote` goes on to `promoted`; `reject` publishes the reasons and ends
   * NotPromoted, the champion still serving; anything else (metrics missing, not numbers, out of
   * range) fails the run with InvalidMetrics.
   */
  public decide(promoted: sfn.IChainable): sfn.Choice {
    const { scope, failures } = this.pipeline;
    const notifyRejected = this.pipeline.guard(
      new tasks.SnsPublish(scope, 'NotifyRejected', {
        topic: this.pipeline.notifications,
        subject: this.pipeline.subject('candidate rejected by the evaluation gate'),
        message: sfn.TaskInput.fromObject({
          'trainingJob.$': RUN.trainingJob,
          'reasons.$': `${RUN.gate}.reasons`,
        }),
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const decision = `${RUN.gate}.decision`;
    return new sfn.Choice(scope, 'GateDecision')
      .when(sfn.Condition.stringEquals(decision, 'promote'), promoted)
      .when(
        sfn.Condition.stringEquals(decision, 'reject'),
        notifyRejected.next(new sfn.Succeed(scope, 'NotPromoted', { comment: 'The champion keeps serving' })),
      )
      .otherwise(
        failures.failWith('InvalidMetrics', 'InvalidMetrics', `States.JsonToString(${RUN.gate}.reasons)`),
      );
  }
}
