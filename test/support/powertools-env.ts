/**
 * Import this before the handler: Powertools reads its environment when the handler module loads.
 * The values are the ones the serving stack sets, so no "namespace should be defined" warning is
 * printed on every invocation.
 */
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'FeedRanking';
process.env.POWERTOOLS_SERVICE_NAME ??= 'recommendations';
process.env.AWS_REGION ??= 'us-east-1';
// Degradations are logged as warnings on stderr; the tests assert them through metrics instead.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

export interface StdoutCapture {
  /** Lines written to stdout since the capture started. */
  readonly lines: string[];
  /** Names of the metrics in the EMF lines captured so far. */
  metricNames(): string[];
  restore(): void;
}

/**
 * Swallows what Powertools writes to stdout (one EMF line per invocation, log lines) and keeps it
 * for assertions. Powertools holds its own Console on `process.stdout` and calls `write` on it at
 * each line, so replacing `write` catches everything.
 */
export function captureStdout(): StdoutCapture {
  const stream = process.stdout;
  const original = stream.write;
  const lines: string[] = [];
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
  return {
    lines,
    metricNames: () => {
      const names: string[] = [];
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as {
          _aws?: { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] };
        };
        for (const group of parsed._aws?.CloudWatchMetrics ?? []) {
          for (const metric of group.Metrics ?? []) names.push(metric.Name);
        }
      }
      return names;
    },
    restore: () => {
      stream.write = original;
    },
  };
}
