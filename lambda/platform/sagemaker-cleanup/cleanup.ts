import {
  CloudWatchLogsClient,
  DeleteLogStreamCommand,
  DescribeLogStreamsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteModelPackageCommand,
  ListEndpointConfigsCommand,
  ListModelPackagesCommand,
  ListModelsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { withDeadline } from '../shared/deadline';

import { TRAINING_JOB_LOG_GROUP } from './names';

export { TRAINING_JOB_LOG_GROUP };

/** What one cleanup removes; every name it deletes starts with `${namePrefix}-`. */
export interface CleanupScope {
  /** The prefix the training pipeline gives every job, model and endpoint config it creates. */
  readonly namePrefix: string;
  /** Delete every version in this model package group, so the group itself can be deleted. */
  readonly modelPackageGroupName?: string;
  /** Delete the models and endpoint configs the pipeline created (after the endpoint is gone). */
  readonly modelsAndEndpointConfigs: boolean;
  /** Delete the training jobs' log streams from the account-wide training log group. */
  readonly trainingLogStreams: boolean;
}

export interface CleanupClients {
  readonly sagemaker: Pick<SageMakerClient, 'send'>;
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
}

export interface CleanupReport {
  modelPackages: number;
  models: number;
  endpointConfigs: number;
  logStreams: number;
}

/** Every request is abandoned after this long, so a stuck call fails the delete instead of hanging it. */
const CALL_DEADLINE_MS = 20_000;

/**
 * Deletes what the training pipeline created at run time, outside CloudFormation: model package
 * versions, models, endpoint configs, training log streams. Names are matched by the exact prefix
 * (`NameContains` is only a server-side filter), so another design's or another user's resources are
 * never touched. A resource already gone counts as deleted.
 */
export async function cleanup(scope: CleanupScope, clients: CleanupClients): Promise<CleanupReport> {
  const owned = (name: string | undefined): name is string =>
    name !== undefined && name.startsWith(`${scope.namePrefix}-`);
  const { sagemaker, logs } = clients;
  const call = <T>(what: string, run: (abortSignal: AbortSignal) => Promise<T>) =>
    withDeadline(what, CALL_DEADLINE_MS, run);
  const report: CleanupReport = { modelPackages: 0, models: 0, endpointConfigs: 0, logStreams: 0 };

  const group = scope.modelPackageGroupName;
  if (group) {
    const packages = pages(async (NextToken) => {
      const page = await call('ListModelPackages', (abortSignal) =>
        sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, NextToken }), {
          abortSignal,
        }),
      );
      return {
        items: (page.ModelPackageSummaryList ?? []).map((p) => p.ModelPackageArn),
        next: page.NextToken,
      };
    });
    for await (const arn of packages) {
      if (!arn) continue;
      await ignoreMissing(() =>
        call('DeleteModelPackage', (abortSignal) =>
          sagemaker.send(new DeleteModelPackageCommand({ ModelPackageName: arn }), { abortSignal }),
        ),
      );
      report.modelPackages += 1;
    }
  }

  if (scope.modelsAndEndpointConfigs) {
    const configs = pages(async (NextToken) => {
      const page = await call('ListEndpointConfigs', (abortSignal) =>
        sagemaker.send(new ListEndpointConfigsCommand({ NameContains: scope.namePrefix, NextToken }), {
          abortSignal,
        }),
      );
      return { items: (page.EndpointConfigs ?? []).map((c) => c.EndpointConfigName), next: page.NextToken };
    });
    for await (const name of configs) {
      if (!owned(name)) continue;
      await ignoreMissing(() =>
        call('DeleteEndpointConfig', (abortSignal) =>
          sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }), { abortSignal }),
        ),
      );
      report.endpointConfigs += 1;
    }
    const models = pages(async (NextToken) => {
      const page = await call('ListModels', (abortSignal) =>
        sagemaker.send(new ListModelsCommand({ NameContains: scope.namePrefix, NextToken }), { abortSignal }),
      );
      return { items: (page.Models ?? []).map((m) => m.ModelName), next: page.NextToken };
    });
    for await (const name of models) {
      if (!owned(name)) continue;
      await ignoreMissing(() =>
        call('DeleteModel', (abortSignal) =>
          sagemaker.send(new DeleteModelCommand({ ModelName: name }), { abortSignal }),
        ),
      );
      report.models += 1;
    }
  }

  if (scope.trainingLogStreams) {
    const streams = pages(async (nextToken) => {
      // The group exists only once some job in the account has logged: absent means nothing to do.
      const page = await ignoreMissing(() =>
        call('DescribeLogStreams', (abortSignal) =>
          logs.send(
            new DescribeLogStreamsCommand({
              logGroupName: TRAINING_JOB_LOG_GROUP,
              logStreamNamePrefix: `${scope.namePrefix}-`,
              nextToken,
            }),
            { abortSignal },
          ),
        ),
      );
      return { items: (page?.logStreams ?? []).map((s) => s.logStreamName), next: page?.nextToken };
    });
    for await (const name of streams) {
      if (!owned(name)) continue;
      await ignoreMissing(() =>
        call('DeleteLogStream', (abortSignal) =>
          logs.send(
            new DeleteLogStreamCommand({ logGroupName: TRAINING_JOB_LOG_GROUP, logStreamName: name }),
            {
              abortSignal,
            },
          ),
        ),
      );
      report.logStreams += 1;
    }
  }
  return report;
}

/**
 * Items of a paginated listing. Deleting while listing shifts later pages, so the listing restarts
 * from the first page until a pass finds nothing new.
 */
async function* pages<T>(
  list: (token: string | undefined) => Promise<{ items: (T | undefined)[]; next?: string }>,
): AsyncGenerator<T | undefined> {
  const seen = new Set<T>();
  for (;;) {
    let fresh = 0;
    let token: string | undefined;
    do {
      const page = await list(token);
      for (const item of page.items) {
        if (item === undefined || seen.has(item)) continue;
        seen.add(item);
        fresh += 1;
        yield item;
      }
      token = page.next;
    } while (token);
    if (fresh === 0) return;
  }
}

async function ignoreMissing<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const name = (error as { name?: string }).name;
    const message = (error as { message?: string }).message ?? '';
    // SageMaker answers a missing model or config with ValidationException "Could not find ...".
    if (
      name === 'ResourceNotFoundException' ||
      (name === 'ValidationException' && /could not find|does not exist/i.test(message))
    ) {
      return undefined;
    }
    throw error;
  }
}
