import { ModelAnswer, type ModelRequest } from '../../../lib/designs/ad-click/contracts';
import { ModelScoresError, type ModelScores } from '../../platform/realtime/fallback';
import type { JsonEndpoint } from '../../platform/realtime/json-endpoint';

/** The click model behind the endpoint, spoken to in its own contract (`sagemaker/ad_click/inference.py`). */
export class ClickModelClient {
  constructor(private readonly endpoint: JsonEndpoint) {}

  /** Calibrated click probabilities of the request's candidates, in their order, from `variant`. */
  async score(request: ModelRequest, variant: string, inferenceId?: string): Promise<ModelScores> {
    const answer = ModelAnswer.safeParse(
      await this.endpoint.invoke(request, { targetVariant: variant, inferenceId }),
    );
    if (!answer.success) {
      throw new ModelScoresError('the endpoint answer does not match { probabilities, model_version }');
    }
    return { scores: answer.data.probabilities, modelVersion: answer.data.model_version };
  }
}
