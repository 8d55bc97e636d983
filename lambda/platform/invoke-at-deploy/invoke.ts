import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { withDeadline } from '../shared/deadline';

export interface DeployInvocation {
  readonly functionName: string;
  /** The event, as JSON text. */
  readonly payload: string;
}

/** The target function failed: its error type and message, as Lambda reported them. */
export class InvokedFunctionError extends Error {
  constructor(functionName: string, kind: string, detail: string) {
    super(`${functionName} failed (${kind}): ${detail}`);
    this.name = 'InvokedFunctionError';
  }
}

/**
 * Invokes `functionName` synchronously and returns its result. A function error is not an SDK
 * error: Lambda answers 200 with `FunctionError` set and the error in the payload, so it is checked
 * here; without that check a failed run would report success.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_ResponseSyntax
 */
export async function invokeOrThrow(
  invocation: DeployInvocation,
  client: Pick<LambdaClient, 'send'>,
  timeoutMs: number,
): Promise<unknown> {
  const response = await withDeadline(`Invoke ${invocation.functionName}`, timeoutMs, (abortSignal) =>
    client.send(
      new InvokeCommand({
        FunctionName: invocation.functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(invocation.payload),
      }),
      { abortSignal },
    ),
  );
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  if (response.FunctionError) {
    let detail = text;
    try {
      const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      detail = [parsed.errorType, parsed.errorMessage].filter(Boolean).join(': ') || text;
    } catch {
      // Not JSON: report the payload as it came.
    }
    throw new InvokedFunctionError(invocation.functionName, response.FunctionError, detail.slice(0, 1000));
  }
  return text ? (JSON.parse(text) as unknown) : null;
}
