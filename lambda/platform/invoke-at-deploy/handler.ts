import { Logger } from '@aws-lambda-powertools/logger';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { invokeOrThrow } from './invoke';

/**
 * A CloudFormation custom resource (through the aws-cdk-lib provider framework) that invokes a
 * function once, when the resource is created, and fails the deployment when that function fails.
 *
 * Properties: `FunctionName`, `Payload` (the event as JSON text).
 */
const logger = new Logger();
const client = new LambdaClient({});
/** Time kept back to report the outcome to CloudFormation before this function's own timeout. */
const REPORT_MARGIN_MS = 10_000;

export const handler = async (event: CloudFormationCustomResourceEvent, context: Context) => {
  const { FunctionName: functionName, Payload: payload } = event.ResourceProperties as Record<
    string,
    unknown
  >;
  if (typeof functionName !== 'string' || functionName === '') throw new Error('FunctionName is required');
  if (typeof payload !== 'string') throw new Error('Payload must be the event as JSON text');
  const physicalResourceId = `invoke-${functionName}`.slice(0, 1024);
  if (event.RequestType !== 'Create') return { PhysicalResourceId: physicalResourceId };
  const result = await invokeOrThrow(
    { functionName, payload },
    client,
    Math.max(1_000, context.getRemainingTimeInMillis() - REPORT_MARGIN_MS),
  );
  logger.info('invoked at deploy', { functionName, result: result as Record<string, unknown> });
  return { PhysicalResourceId: physicalResourceId };
};
