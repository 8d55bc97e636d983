import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { cleanup, type CleanupScope } from './cleanup';

/**
 * A CloudFormation custom resource (through the aws-cdk-lib provider framework) that does nothing
 * on create and update, and on delete removes what the training pipeline created at run time.
 *
 * Properties: `NamePrefix`, `ModelPackageGroupName` (optional), `ModelsAndEndpointConfigs` and
 * `TrainingLogStreams` (`"true"` or `"false"`: CloudFormation passes every property as a string).
 */
const logger = new Logger();
const clients = { sagemaker: new SageMakerClient({}), logs: new CloudWatchLogsClient({}) };

export function scopeFromProperties(properties: Record<string, unknown>): CleanupScope {
  const prefix = properties.NamePrefix;
  if (typeof prefix !== 'string' || !/^[a-z][a-z0-9-]{0,40}$/.test(prefix)) {
    throw new Error(`NamePrefix must be lower-case letters, digits and '-'; got ${JSON.stringify(prefix)}`);
  }
  const group = properties.ModelPackageGroupName;
  if (group !== undefined && typeof group !== 'string')
    throw new Error('ModelPackageGroupName must be a string');
  return {
    namePrefix: prefix,
    modelPackageGroupName: group || undefined,
    modelsAndEndpointConfigs: properties.ModelsAndEndpointConfigs === 'true',
    trainingLogStreams: properties.TrainingLogStreams === 'true',
  };
}

export const handler = async (event: CloudFormationCustomResourceEvent) => {
  const scope = scopeFromProperties(event.ResourceProperties);
  const physicalResourceId = `cleanup-${scope.namePrefix}`;
  if (event.RequestType !== 'Delete') return { PhysicalResourceId: physicalResourceId };
  const report = await cleanup(scope, clients);
  logger.info('cleaned up run-time resources', { scope, report });
  return { PhysicalResourceId: physicalResourceId, Data: report };
};
