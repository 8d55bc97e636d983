/**
 * A CloudFormation custom resource (through the aws-cdk-lib provider framework) that invokes a
 * function once, when the resource is created, and fails the deployment when that function fails.
 *
 * Properties: `FunctionName`, `Payload` (the event as JSON text).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { customResourceEvent } from '../shared/custom-resource-event';
import { fields, lambdaEntry, powertools } from '../shared/lambda-entry';
import { SDK_RETRY } from '../shared/sdk-retry';
import { invokeOrThrow } from './invoke';

const tools = powertools();
const { logger, tracer } = tools;

/**
 * The SDK's standard retry: a throttled Invoke never ran; after a 5xx or a dropped connection the
 * target may have run, so the functions invoked at deploy are idempotent (the bootstrap cache load
 * runs with `onlyIfEmpty`). All attempts stay within the deadline `invokeOrThrow` sets.
 */
const client = tracer.captureAWSv3Client(new LambdaClient(SDK_RETRY.standard));

/** Time kept back to report the outcome to CloudFormation before this function's own timeout. */
const REPORT_MARGIN_MS = 10_000;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const InvokeEvent = customResourceEvent(
  fields.object({
    FunctionName: fields.text(),
    Payload: fields.text().refine(isJson, { error: 'must be the event as JSON text' }),
  }),
);
export type InvokeEvent = z.output<typeof InvokeEvent>;

export async function handleInvoke(
  event: InvokeEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  lambda: Pick<LambdaClient, 'send'> = client,
): Promise<{ PhysicalResourceId: string }> {
  const { FunctionName: functionName, Payload: payload } = event.ResourceProperties;
  const physicalResourceId = `invoke-${functionName}`.slice(0, 1024);
  if (event.RequestType !== 'Create') return { PhysicalResourceId: physicalResourceId };
  const result = await invokeOrThrow(
    { functionName, payload },
    lambda,
    Math.max(1_000, context.getRemainingTimeInMillis() - REPORT_MARGIN_MS),
  );
  logger.info('invoked at deploy', { functionName, result: result as Record<string, unknown> });
  return { PhysicalResourceId: physicalResourceId };
}

export const handler = lambdaEntry(tools, InvokeEvent, (event, context) => handleInvoke(event, context));
