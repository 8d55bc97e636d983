import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { LoadRequest } from '../../../lambda/artist-recommender/cache-loader/load';
import { ARTIFACT_PREFIXES } from '../../platform/constructs/ml/artifact-layout';
import type { AfterPromotion } from '../../platform/constructs/ml/training-pipeline';
import type { TaskParameters } from '../../platform/constructs/workflow/sdk-parameters';

/** The loader's event for a set inside a training job's `output.tar.gz`. */
export type ArchiveLoadRequest = Extract<LoadRequest, { readonly archiveKey: string }>;

/**
 * What `sagemaker/artist_recommender` writes beside `metrics.json` in a job's `output.tar.gz`: every
 * user's ranked artists, and the popularity list served to users without one.
 */
export const RANKING_OUTPUT_FILES = {
  recommendations: 'recommendations.jsonl',
  popularity: 'popularity.json',
} as const;

export interface CacheLoadAfterPromotionProps {
  /** The cache loader (`lambda/artist-recommender/cache-loader/`). */
  readonly loader: lambda.IFunction;
  /** The artefacts bucket training jobs write their outputs to, and its key. */
  readonly artifacts: s3.IBucket;
  readonly key: kms.IKey;
}

/**
 * The recommender's step after a promotion: LoadCache, which loads the promoted run's batch lists
 * into the cache under a new version and swaps the pointer, so users get the new champion's lists
 * from the cache. Grants the loader read of the training outputs now; the pipeline grants itself
 * the invoke when it builds the step.
 */
export function loadCacheAfterPromotion(props: CacheLoadAfterPromotionProps): AfterPromotion {
  props.artifacts.grantRead(props.loader, `${ARTIFACT_PREFIXES.models}*`);
  props.key.grantDecrypt(props.loader);
  return (scope, run) => {
    const event: TaskParameters<ArchiveLoadRequest> = {
      bucket: run.artifacts.bucketName,
      'archiveKey.$': run.outputArchiveKey,
      recommendationsMember: RANKING_OUTPUT_FILES.recommendations,
      popularityMember: RANKING_OUTPUT_FILES.popularity,
      variant: run.championVariant,
    };
    return new tasks.LambdaInvoke(scope, 'LoadCache', {
      comment: 'Batch recommendations into the cache under a new version, then the pointer swap',
      lambdaFunction: props.loader,
      payload: sfn.TaskInput.fromObject(event),
      payloadResponseOnly: true,
      resultPath: run.resultPath,
    });
  };
}
