import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { withDeadline } from '../shared/deadline';

/** The endpoint answered, but not with JSON. */
export class EndpointAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointAnswerError';
  }
}

export interface InvokeOptions {
  /** The production variant to ask, e.g. the caller's A/B assignment. @default - SageMaker's weighted choice */
  readonly targetVariant?: string;
  /**
   * Recorded with the request in the endpoint's data capture, so answers can be joined to outcomes
   * later (InferenceId, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
   * Left out when it is not 1 to 64 printable ASCII characters starting with a non-space.
   */
  readonly inferenceId?: string;
}

const INFERENCE_ID_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,63}$/;

/**
 * A SageMaker real-time endpoint spoken to in JSON, each call bounded by a deadline. The call is
 * made once: the client's own retry settings (`maxAttempts`) decide about retries, inside the deadline.
 */
export class JsonEndpoint {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly client: SageMakerRuntimeClient,
    readonly endpointName: string,
    private readonly timeoutMs: number,
  ) {}

  async invoke(body: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const inferenceId =
      options.inferenceId !== undefined && INFERENCE_ID_PATTERN.test(options.inferenceId)
        ? options.inferenceId
        : undefined;
    const response = await withDeadline('model endpoint', this.timeoutMs, (abortSignal) =>
      this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          TargetVariant: options.targetVariant,
          InferenceId: inferenceId,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: new TextEncoder().encode(JSON.stringify(body)),
        }),
        { abortSignal },
      ),
    );
    let text: string;
    try {
      text = this.decoder.decode(response.Body ?? new Uint8Array());
    } catch {
      throw new EndpointAnswerError('the endpoint answered with bytes that are not UTF-8');
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new EndpointAnswerError(
        `the endpoint answered with something that is not JSON (${text.length} characters)`,
      );
    }
  }
}
