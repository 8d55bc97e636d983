import { Duration, type CustomResource, type Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ScoredItem } from '../../../lambda/artist-recommender/shared/cache-layout';
import type { Profile } from '../../platform/config/profile';
import { CustomResourceHandler } from '../../platform/constructs/compute/custom-resource-handler';
import { SourceBundle } from '../../platform/constructs/ml/source-bundle';
import type { MlStack } from '../../platform/stacks/ml-stack';
import { BOOTSTRAP_MODEL_VERSION, BOOTSTRAP_POPULARITY, writeFiles } from './bootstrap';
import { RANKING_OUTPUT_FILES, type ArchiveLoadRequest } from './cache-load';

export interface BootstrapCacheLoadProps {
  /** The stack of the endpoint whose champion variant the set is loaded for. */
  readonly ml: MlStack;
  /** The cache loader (`lambda/artist-recommender/cache-loader/`). */
  readonly loader: lambda.IFunction;
  /** Log retention and removal of the invoking handler. */
  readonly profile: Profile;
  /** @default BOOTSTRAP_POPULARITY, the list the bootstrap model serves */
  readonly popularity?: readonly ScoredItem[];
}

/**
 * Loads a bootstrap set into the empty cache once, when `stack` (the pipeline stack) is created, so
 * the first requests are answered from the cache before any training: an archive shaped like a
 * training job's `output.tar.gz` (no user lists, the popularity list), loaded by the loader like any
 * other with `onlyIfEmpty`, so a later deploy never replaces a set a training run has loaded. A
 * failed load fails the deployment. Built in `stack`'s scope: `InvokeAtDeploy` keeps its logical IDs.
 */
export function loadBootstrapCache(stack: Stack, props: BootstrapCacheLoadProps): CustomResource {
  const popularity = props.popularity ?? BOOTSTRAP_POPULARITY;
  const dir = writeFiles('artist-recommender-bootstrap-set', {
    [RANKING_OUTPUT_FILES.recommendations]: '',
    [RANKING_OUTPUT_FILES.popularity]: JSON.stringify({
      model_version: BOOTSTRAP_MODEL_VERSION,
      items: popularity,
    }),
  });
  const set = new SourceBundle(stack, 'BootstrapSet', { directory: dir });
  set.grantRead(props.loader);
  const invoker = new CustomResourceHandler(stack, 'InvokeAtDeploy', {
    handlerFolder: 'platform/invoke-at-deploy',
    description: 'Invokes a function once at deploy and fails the deployment when it fails',
    timeout: Duration.minutes(5),
    logRetention: props.profile.logRetention,
    logRemovalPolicy: props.profile.removalPolicy,
  });
  props.loader.grantInvoke(invoker.role);
  const request: ArchiveLoadRequest = {
    bucket: set.asset.s3BucketName,
    archiveKey: set.asset.s3ObjectKey,
    recommendationsMember: RANKING_OUTPUT_FILES.recommendations,
    popularityMember: RANKING_OUTPUT_FILES.popularity,
    variant: props.ml.endpoint.variants[0].name,
    onlyIfEmpty: true,
  };
  return invoker.addResource(stack, 'LoadBootstrapSet', 'InvokeAtDeploy', {
    FunctionName: props.loader.functionName,
    Payload: JSON.stringify(request),
  });
}
