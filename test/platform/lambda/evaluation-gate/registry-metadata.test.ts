import { decide, type GatePolicy } from '../../../../lambda/platform/evaluation-gate/decide';
import {
  metadataValue,
  registryMetadata,
} from '../../../../lambda/platform/evaluation-gate/registry-metadata';
import { validateRequest } from '../../../support/aws-api-model';

const POLICY: GatePolicy = {
  metric: 'ndcg_at_10',
  direction: 'higher-is-better',
  range: [0, 1],
  baselineMetric: 'popularity_ndcg_at_10',
  minImprovementOverChampion: 0.002,
  minImprovementOverBaseline: 0.02,
};

/** CreateModelPackage as the pipeline's Register state sends it, with the gate's metadata. */
function registerRequest(metadata: Record<string, string>) {
  return {
    ModelPackageGroupName: 'ranker-sbx-models-1a2b3c4d',
    ModelPackageDescription: 'Training job ranker-sbx-0b4f',
    ModelApprovalStatus: 'Approved',
    InferenceSpecification: {
      Containers: [
        {
          Image:
            '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312-ubuntu22.04-sagemaker',
          ModelDataUrl: 's3://bucket/models/job/output/model.tar.gz',
        },
      ],
      SupportedContentTypes: ['application/json'],
      SupportedResponseMIMETypes: ['application/json'],
    },
    CustomerMetadataProperties: metadata,
  };
}

describe('registry metadata of the gate', () => {
  test("the gate's reasons as they are break CreateModelPackage's pattern", () => {
    const { reasons } = decide({ ndcg_at_10: 0.3, popularity_ndcg_at_10: 0.1 }, { ndcg_at_10: 0.25 }, POLICY);
    const freeText = { gate: `${reasons[0]}; champion's 'best'` };
    expect(validateRequest('sagemaker', 'CreateModelPackage', registerRequest(freeText))).not.toEqual([]);
  });

  test.each([
    ['promote over a champion', { ndcg_at_10: 0.3, popularity_ndcg_at_10: 0.1 }, { ndcg_at_10: 0.25 }],
    ['promote with no champion', { ndcg_at_10: 0.3, popularity_ndcg_at_10: 0.1 }, undefined],
    ['reject', { ndcg_at_10: 0.2, popularity_ndcg_at_10: 0.1 }, { ndcg_at_10: 0.25 }],
    ['invalid', { popularity_ndcg_at_10: 0.1 }, undefined],
  ])('%s: every value passes the registry model', (_case, candidate, champion) => {
    const result = decide(candidate, champion, POLICY);
    const metadata = registryMetadata(result, 'ranker-sbx-0b4f8c2e-1f0a-4d2b-9a51-3c3e1b7d9f00');
    expect(validateRequest('sagemaker', 'CreateModelPackage', registerRequest(metadata))).toEqual([]);
    expect(metadata.decision).toBe(result.decision);
  });

  test('records which metric the numbers are and which way is better, for a lower-is-better gate too', () => {
    const logLoss: GatePolicy = {
      metric: 'log_loss',
      direction: 'lower-is-better',
      range: [0, Math.LN2],
      baselineMetric: 'baseline_log_loss',
      minImprovementOverChampion: 0.0005,
      minImprovementOverBaseline: 0.002,
    };
    for (const candidate of [
      { log_loss: 0.44, baseline_log_loss: 0.47 },
      { log_loss: 2, baseline_log_loss: 0.47 },
    ]) {
      const result = decide(candidate, { log_loss: 0.45 }, logLoss);
      const metadata = registryMetadata(result, 'ctr-prod-0b4f8c2e-1f0a-4d2b-9a51-3c3e1b7d9f00');
      expect(metadata).toMatchObject({ metric: 'log_loss', direction: 'lower-is-better' });
      expect(validateRequest('sagemaker', 'CreateModelPackage', registerRequest(metadata))).toEqual([]);
    }
  });

  test('keeps the words, drops the characters the registry refuses, and bounds the length', () => {
    expect(metadataValue("ndcg_at_10 0.3000 beats the champion's 0.2500; popularity 0.1000")).toBe(
      'ndcg_at_10 0.3000 beats the champion s 0.2500 popularity 0.1000',
    );
    expect(metadataValue(';;;')).toBe('none');
    expect(metadataValue('x'.repeat(1000))).toHaveLength(256);
    expect(metadataValue('Künstler über 0.3')).toBe('Künstler über 0.3');
  });
});
