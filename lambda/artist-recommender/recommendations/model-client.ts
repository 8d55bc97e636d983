import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { JsonEndpoint } from '../../platform/realtime/json-endpoint';
import { SDK_RETRY } from '../../platform/shared/sdk-retry';
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
 * The recommender's model behind a SageMaker endpoint, spoken to through the platform's
 * `JsonEndpoint` (a deadline on every call: a late answer fails with DeadlineExceededError, an
 * answer that is not JSON with EndpointAnswerError). The SDK and the endpoint client are loaded
 * on the first miss, not at cold start: most requests are cache hits and never need them.
 */
export class SageMakerModelClient implements ModelClient {
  private endpoint?: Promise<JsonEndpoint>;

  constructor(
    private readonly endpointName: string,
    private readonly timeoutMs: number,
    private readonly createClient: () => Promise<SageMakerRuntimeClient> = createRuntimeClient,
  ) {}

  async recommend(userId: string, variant: string, k: number): Promise<RecommendationList> {
    this.endpoint ??= this.connect();
    const answer = await (await this.endpoint).invoke({ user_id: userId, k }, { targetVariant: variant });
    return checkModelAnswer(answer);
  }

  private async connect(): Promise<JsonEndpoint> {
    const [client, { JsonEndpoint }] = await Promise.all([
      this.createClient(),
      import('../../platform/realtime/json-endpoint'),
    ]);
    return new JsonEndpoint(client, this.endpointName, this.timeoutMs);
  }
}

/**
 * The runtime client, made once per container by the first miss. One attempt: a slow or failing
 * endpoint is answered by the fallback, not retried into the latency budget.
 */
export async function createRuntimeClient(): Promise<SageMakerRuntimeClient> {
  const { SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
  return new SageMakerRuntimeClient(SDK_RETRY.once);
}

/** Checks `{ model_version, items: [{ artistId, score }] }`, the inference handler's answer. */
export function checkModelAnswer(value: unknown): RecommendationList {
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
