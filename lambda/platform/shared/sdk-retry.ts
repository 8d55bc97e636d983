/**
 * The retry policies of the functions' AWS SDK clients, set through the SDK's own settings: no
 * handler wraps an SDK call in a retry loop of its own, so attempts never multiply and every
 * client backs off the way the SDKs agree on (exponential with jitter, a retry quota; throttling,
 * transient network errors and 5xx answers are retried, a client error never is)
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 * A client whose calls run under a deadline (`./deadline.ts`) retries inside it.
 */

/** Configuration fields of every SDK v3 client. */
export interface RetrySettings {
  readonly maxAttempts: number;
  readonly retryMode?: 'standard' | 'adaptive';
}

export const SDK_RETRY = {
  /** The SDKs' standard mode and attempts: calls a task or a deploy-time handler makes now and then. */
  standard: { maxAttempts: 3, retryMode: 'standard' },
  /**
   * Adaptive mode for a client that sends many calls to one resource, throttling expected (a bulk
   * ingestion, a cleanup against a control plane): standard mode plus a client-side rate limiter
   * that slows the client down when throttled, instead of spending its attempts.
   */
  adaptive: (maxAttempts: number): RetrySettings => ({ maxAttempts, retryMode: 'adaptive' }),
  /** No retry: a call on a request path whose late or failed answer a fallback replaces. */
  once: { maxAttempts: 1 },
} as const satisfies Record<string, RetrySettings | ((maxAttempts: number) => RetrySettings)>;
