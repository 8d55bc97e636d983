/**
 * Invoking a handler's Lambda entry as Lambda does: with a context, Powertools' output captured.
 * Import this before the handler: Powertools reads its environment when the handler module loads,
 * and the entries' log lines are INFO.
 */
import type { Context } from 'aws-lambda';
import { captureStdout as captureStream, type StdoutCapture } from '../../../support/powertools-env';

process.env.POWERTOOLS_METRICS_NAMESPACE = 'BlueprintTest';
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';

export type { StdoutCapture };

/**
 * Keeps what Powertools writes: its metrics and INFO lines on stdout, its WARN and ERROR lines on
 * stderr, as one capture in the order written.
 */
export function captureOutput(): StdoutCapture {
  const stdout = captureStream();
  const stream = process.stderr;
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdout.lines.push(...String(chunk).split('\n').filter(Boolean));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
  return {
    lines: stdout.lines,
    metricNames: () => stdout.metricNames(),
    restore: () => {
      stream.write = original;
      stdout.restore();
    },
  };
}

/** The context Lambda passes, for a function named `functionName`. */
export function lambdaContext(awsRequestId: string, functionName = 'task-under-test'): Context {
  return {
    awsRequestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The JSON log lines (not the EMF ones) captured so far. */
export function logLines(stdout: StdoutCapture): Record<string, unknown>[] {
  return stdout.lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line._aws === undefined);
}

/** One EMF line as CloudWatch reads it: its metric names and their values. */
export interface MetricsLine {
  readonly names: string[];
  readonly values: Record<string, unknown>;
}

/** The EMF lines captured so far, in order. */
export function metricsLines(stdout: StdoutCapture): MetricsLine[] {
  return stdout.lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { _aws?: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } })
    .filter((line) => line._aws !== undefined)
    .map((line) => {
      const names = line._aws!.CloudWatchMetrics.flatMap((group) => group.Metrics.map((m) => m.Name));
      return {
        names,
        values: Object.fromEntries(names.map((name) => [name, (line as Record<string, unknown>)[name]])),
      };
    });
}
