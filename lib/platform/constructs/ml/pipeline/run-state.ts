import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../artifact-layout';
import type { FailureHandling } from '../../workflow/failure-handling';

/** JSONPaths of what a run's state carries from one part of the pipeline to the next. */
export const RUN = {
  /** The run's name, `<prefix>-<uuid>`: its model and endpoint config, and its training job unless tuned. */
  name: '$.run.jobName',
  /**
   * The training job whose model is the candidate: the run's own, or the best one of the run's
   * automatic model tuning job.
   */
  trainingJob: '$.training.jobName',
  /** S3 URI of the trained `model.tar.gz`. */
  modelDataUrl: '$.training.modelDataUrl',
  /** The champion's model as the last promotion recorded it, and the training channels it implies. */
  champion: '$.champion',
  /** The training job's input channels, chosen at run time (with or without the champion's model). */
  channels: '$.inputs.channels',
  /** The gate's answer: decision, reasons, candidateMetrics, registryMetadata. */
  gate: '$.gate',
  modelPackageArn: '$.modelPackage.arn',
  /** The endpoint's status and config name, as the last poll read them. */
  deployment: '$.deployment',
  /** What the design's step after a promotion returned. */
  afterPromotion: '$.afterPromotion',
} as const;

/**
 * The key of the candidate's `output.tar.gz` in the artefacts bucket, as an intrinsic function:
 * SageMaker writes it under the output path, in a folder named after the training job.
 */
export const OUTPUT_ARCHIVE_KEY = `States.Format('${ARTIFACT_PREFIXES.models}{}/output/output.tar.gz', ${RUN.trainingJob})`;

/** A task state the pipeline can guard with its retries and catch-all. */
export type GuardableTask = sfn.TaskStateBase | sfn.CustomState;

/** What every part of the pipeline builds with. */
export interface PipelineScope {
  /**
   * The pipeline construct. Every state and resource of every part is its direct child, so logical
   * IDs (the model registry's among them) do not depend on how the parts are split.
   */
  readonly scope: Construct;
  /** Starts every name a run creates, and scopes the pipeline's IAM to them. */
  readonly namePrefix: string;
  /** The topic every notification of a run goes to. */
  readonly notifications: sns.ITopic;
  /** The subject of a notification about `what`, naming the pipeline (SNS subjects are under 100 characters). */
  subject(what: string): string;
  /** Adds the pipeline's retries and catch-all to `task`, and returns it. */
  guard<T extends GuardableTask>(task: T): T;
  readonly failures: FailureHandling;
}

/** The ARN pattern of every `resource` (`model`, `endpoint-config`, ...) a run of `namePrefix` creates. */
export function runArn(scope: Construct, namePrefix: string, resource: string): string {
  return Stack.of(scope).formatArn({ service: 'sagemaker', resource, resourceName: `${namePrefix}-*` });
}

/**
 * Lets `principal` run a `.sync` SageMaker task of `jobs`: Step Functions watches the job through a
 * managed EventBridge rule it creates and reads in the caller's account
 * (https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html).
 */
export function grantSageMakerSyncRule(
  principal: iam.IGrantable,
  scope: Construct,
  jobs: 'TrainingJobs' | 'TuningJobs' | 'ProcessingJobs',
): void {
  principal.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [
        Stack.of(scope).formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: `StepFunctionsGetEventsForSageMaker${jobs}Rule`,
        }),
      ],
    }),
  );
}
