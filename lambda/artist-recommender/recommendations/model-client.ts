import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { isScoredItem, type RecommendationList } from '../shared/cache-layout';

export interface ModelClient {
  /** Asks the model for a user's top `k`, on the user's A/B variant. */
  recommend(userId: string, variant: string, k: number): Promise<RecommendationList>;
}

/** The endpoint answered, but not with the contract of `sagemaker/` inference code. */
export class ModelResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelResponseError';
  }
}

/**
 * Calls the SageMaker endpoint through the runtime API. The SDK is loaded on the first miss, not at
 * cold start: most requests are cache hits and never need it.
 */
export class SageMakerModelClient implements ModelClient {
  private client?: Promise<SageMakerRuntimeClient>;

  constructor(
    private readonly endpointName: string,
    private readonly timeoutMs: number,
    private readonly createClient: () => Promise<SageMakerRuntimeClient> = defaultClient,
  ) {}

  async recommend(userId: string, variant: string, k: number): Promise<RecommendationList> {
    this.client ??= this.createClient();
    const client = await this.client;
    const { InvokeEndpointCommand } = await import('@aws-sdk/client-sagemaker-runtime');
    const abortSignal = AbortSignal.timeout(this.timeoutMs);
    // The signal aborts the HTTP exchange; the race also bounds what the SDK does around it, so the
    // latency budget holds whatever stage the call is stuck in.
    const response = await withDeadline(
      client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          TargetVariant: variant,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: JSON.stringify({ user_id: userId, k }),
        }),
        { abortSignal },
      ),
      abortSignal,
      this.timeoutMs,
    );
    return parseModelAnswer(new TextDecoder().decode(response.Body));
  }
}

/** Thrown when the endpoint has not answered within the timeout. */
export class ModelTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`model endpoint did not answer within ${timeoutMs} ms`);
    this.name = 'ModelTimeoutError';
  }
}

function withDeadline<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  if (signal.aborted) return Promise.reject(new ModelTimeoutError(timeoutMs));
  let onAbort: () => void = () => undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ModelTimeoutError(timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, deadline]).finally(() => signal.removeEventListener('abort', onAbort));
}

async function defaultClient(): Promise<SageMakerRuntimeClient> {
  const { SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
  // One attempt: a slow endpoint is answered by the fallback, not retried into the latency budget.
  return new SageMakerRuntimeClient({ maxAttempts: 1 });
}

/** Parses `{ model_version, items: [{ artistId, score }] }`, the inference handler's answer. */
export function parseModelAnswer(body: string): RecommendationList {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ModelResponseError('model answer is not JSON');
  }
  const { model_version: modelVersion, items } = (value ?? {}) as {
    model_version?: unknown;
    items?: unknown;
  };
  if (typeof modelVersion !== 'string' || !Array.isArray(items) || !items.every(isScoredItem)) {
    throw new ModelResponseError(
      'model answer does not match { model_version, items: [{ artistId, score }] }',
    );
  }
  return { modelVersion, items };
}
