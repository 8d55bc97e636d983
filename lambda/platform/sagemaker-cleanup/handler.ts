/**
 * A CloudFormation custom resource (through the aws-cdk-lib provider framework) that does nothing
 * on create and update, and on delete removes what the training pipeline created at run time.
 *
 * Properties: `NamePrefix`, `ModelPackageGroupName` (optional), `ModelsAndEndpointConfigs` and
 * `TrainingLogStreams` (`"true"` or `"false"`: CloudFormation passes every property as a string).
 * Metrics on delete: ModelPackagesDeleted, ModelsDeleted, EndpointConfigsDeleted, LogStreamsDeleted.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { customResourceEvent } from '../shared/custom-resource-event';
import { fields, lambdaEntry, parseEvent, powertools } from '../shared/lambda-entry';
import { SDK_RETRY } from '../shared/sdk-retry';
import { cleanup, type CleanupClients, type CleanupScope } from './cleanup';

const tools = powertools();
const { logger, metrics, tracer } = tools;

/**
 * Adaptive retry: a delete lists and deletes one resource after another against SageMaker's control
 * plane, whose request rates are low, so the client slows itself down on throttling instead of
 * spending its attempts. Every call, its retries included, stays within cleanup's per-call deadline.
 */
const RETRY = SDK_RETRY.adaptive(5);
const clients: CleanupClients = {
  sagemaker: tracer.captureAWSv3Client(new SageMakerClient(RETRY)),
  logs: tracer.captureAWSv3Client(new CloudWatchLogsClient(RETRY)),
};

const flag = z
  .enum(['true', 'false'], { error: "must be 'true' or 'false'" })
  .optional()
  .transform((value) => value === 'true');

/** The resource's properties, read as the scope of the cleanup. */
export const CleanupProperties = fields
  .object({
    NamePrefix: z
      .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a string') })
      .regex(/^[a-z][a-z0-9-]{0,40}$/, {
        error: "must be 1 to 41 lower-case letters, digits and '-', starting with a letter",
      }),
    ModelPackageGroupName: z.string({ error: 'must be a string' }).optional(),
    ModelsAndEndpointConfigs: flag,
    TrainingLogStreams: flag,
  })
  .transform((p): CleanupScope => ({
    namePrefix: p.NamePrefix,
    modelPackageGroupName: p.ModelPackageGroupName || undefined,
    modelsAndEndpointConfigs: p.ModelsAndEndpointConfigs,
    trainingLogStreams: p.TrainingLogStreams,
  }));

export const CleanupEvent = customResourceEvent(CleanupProperties);
export type CleanupEvent = z.output<typeof CleanupEvent>;

/** The scope that `properties` describe; a bad property fails with the parser's error naming it. */
export function scopeFromProperties(properties: unknown): CleanupScope {
  return parseEvent(CleanupProperties, properties);
}

export async function handleCleanup(event: CleanupEvent, using: CleanupClients = clients) {
  const scope = event.ResourceProperties;
  const physicalResourceId = `cleanup-${scope.namePrefix}`;
  if (event.RequestType !== 'Delete') return { PhysicalResourceId: physicalResourceId };
  const report = await cleanup(scope, using);
  metrics.addMetric('ModelPackagesDeleted', MetricUnit.Count, report.modelPackages);
  metrics.addMetric('ModelsDeleted', MetricUnit.Count, report.models);
  metrics.addMetric('EndpointConfigsDeleted', MetricUnit.Count, report.endpointConfigs);
  metrics.addMetric('LogStreamsDeleted', MetricUnit.Count, report.logStreams);
  logger.info('cleaned up run-time resources', { scope, report });
  return { PhysicalResourceId: physicalResourceId, Data: report };
}

export const handler = lambdaEntry(tools, CleanupEvent, (event) => handleCleanup(event));
