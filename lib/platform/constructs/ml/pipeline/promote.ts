import type { PutObjectRequest } from '@aws-sdk/client-s3';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { sdkParameters } from '../../workflow/sdk-parameters';
import { ARTIFACT_PREFIXES, CHAMPION_MODEL_POINTER, TRAINING_OUTPUT_FILES } from '../artifact-layout';
import { OUTPUT_ARCHIVE_KEY, RUN, type PipelineScope } from './run-state';

/** What a design's step after a promotion knows of the run. */
export interface PromotedRun {
  /** The artefacts bucket the run wrote to. */
  readonly artifacts: s3.IBucket;
  /** JSONPath of the run's name: its training job, model and endpoint config. */
  readonly runNamePath: string;
  /**
   * An intrinsic function giving the key, in `artifacts`, of the run's `output.tar.gz`: the files
   * the entry point wrote to `SM_OUTPUT_DATA_DIR`.
   */
  readonly outputArchiveKey: string;
  /** The variant the promoted model serves now: the endpoint's first. */
  readonly championVariant: string;
  /** Where the step puts its result in the run's state; the promotion notice publishes it. */
  readonly resultPath: string;
}

/**
 * A design's own step once a promoted model serves, before the champion's metrics are recorded:
 * e.g. loading the model's batch output where the design serves from. It is built in the
 * pipeline's scope, so its state names sit beside the pipeline's. Every task state reachable from
 * its start gets the pipeline's retries and catch-all: it must not catch `States.ALL` itself. When
 * it fails the run fails, and the next candidate is still judged against the previous champion.
 */
export type AfterPromotion = (scope: Construct, run: PromotedRun) => sfn.IChainable;

export interface PromoteStepProps {
  readonly artifacts: s3.IBucket;
  readonly championVariant: string;
  /** @default - none: the promotion is recorded as soon as the endpoint serves it */
  readonly afterPromotion?: AfterPromotion;
  /**
   * Also record where the champion's model is (`champion/model.json`), for the next run to
   * warm-start from.
   * @default false
   */
  readonly recordModel?: boolean;
}

/**
 * Promote, once the endpoint serves the run's model: the design's step (if any), then the
 * candidate's metrics become the bar the next candidate must clear, and the promotion is published.
 */
export class PromoteStep {
  public readonly start: sfn.IChainable;

  constructor(pipeline: PipelineScope, props: PromoteStepProps) {
    const { scope, guard } = pipeline;
    /** Writes the JSON at `bodyPath` of the run's state to `key` in the artefacts bucket. */
    const putJson = (id: string, comment: string, key: string, bodyPath: string, objects: string) =>
      guard(
        new tasks.CallAwsService(scope, id, {
          comment,
          service: 's3',
          action: 'putObject',
          parameters: sdkParameters<PutObjectRequest>({
            Bucket: props.artifacts.bucketName,
            Key: key,
            'Body.$': `States.JsonToString(${bodyPath})`,
            ContentType: 'application/json',
          }),
          iamResources: [props.artifacts.arnForObjects(objects)],
          resultPath: sfn.JsonPath.DISCARD,
        }),
      );
    const recordChampion = putJson(
      'RecordChampion',
      'The next candidate has to beat these metrics',
      `${ARTIFACT_PREFIXES.champion}${TRAINING_OUTPUT_FILES.metrics}`,
      `${RUN.gate}.candidateMetrics`,
      `${ARTIFACT_PREFIXES.champion}*`,
    );
    const notifyPromoted = guard(
      new tasks.SnsPublish(scope, 'NotifyPromoted', {
        topic: pipeline.notifications,
        subject: pipeline.subject('model promoted'),
        message: sfn.TaskInput.fromObject({
          'trainingJob.$': RUN.trainingJob,
          'gate.$': `${RUN.gate}.reasons`,
          'modelPackage.$': RUN.modelPackageArn,
          ...(props.afterPromotion ? { 'afterPromotion.$': RUN.afterPromotion } : {}),
        }),
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    let recorded = recordChampion.next(notifyPromoted).next(new sfn.Succeed(scope, 'Promoted'));
    if (props.recordModel) {
      // Before the metrics: once they are written the promotion counts, and the next run must
      // then find this model, not the previous champion's.
      const pointerKey = `${ARTIFACT_PREFIXES.champion}${CHAMPION_MODEL_POINTER}`;
      const championModel = new sfn.Pass(scope, 'ChampionModel', {
        parameters: { 'trainingJob.$': RUN.trainingJob, 'modelDataUrl.$': RUN.modelDataUrl },
        resultPath: '$.championModel',
      });
      const recordModel = putJson(
        'RecordChampionModel',
        'The next run starts from this model',
        pointerKey,
        '$.championModel',
        pointerKey,
      );
      recorded = championModel.next(recordModel).next(recorded);
    }
    if (!props.afterPromotion) {
      this.start = recorded;
      return;
    }
    const step = props.afterPromotion(scope, {
      artifacts: props.artifacts,
      runNamePath: RUN.name,
      outputArchiveKey: OUTPUT_ARCHIVE_KEY,
      championVariant: props.championVariant,
      resultPath: RUN.afterPromotion,
    });
    for (const state of sfn.State.findReachableStates(step.startState)) {
      if (state instanceof sfn.TaskStateBase) guard(state);
    }
    this.start = sfn.Chain.start(step).next(recorded);
  }
}
