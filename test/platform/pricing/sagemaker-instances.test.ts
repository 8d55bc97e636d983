import {
  PRICES_AS_OF,
  PRICES_SOURCE,
  SAGEMAKER_INSTANCES,
  sageMakerInstance,
} from '../../../lib/platform/pricing/sagemaker-instances';
import { loadServiceModel } from '../../support/aws-api-model';

const enumOf = (shape: string): readonly string[] => loadServiceModel('sagemaker').shapes[shape].enum ?? [];

describe('SAGEMAKER_INSTANCES', () => {
  test('is dated and names the pricing page', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}$/);
    expect(PRICES_SOURCE).toBe('https://aws.amazon.com/sagemaker/pricing/');
  });

  test('lists only types a real-time endpoint accepts (ProductionVariantInstanceType)', () => {
    const hosting = enumOf('ProductionVariantInstanceType');
    expect(hosting.length).toBeGreaterThan(50);
    expect(Object.keys(SAGEMAKER_INSTANCES).filter((type) => !hosting.includes(type))).toEqual([]);
  });

  test('prices training only on types a training job accepts (TrainingInstanceType)', () => {
    const training = enumOf('TrainingInstanceType');
    const trained = Object.entries(SAGEMAKER_INSTANCES)
      .filter(([, entry]) => 'training' in entry)
      .map(([type]) => type);
    // What the profiles train and monitor on.
    expect(trained.sort()).toEqual(['ml.g5.2xlarge', 'ml.g5.xlarge', 'ml.m5.xlarge']);
    expect(trained.filter((type) => !training.includes(type))).toEqual([]);
  });

  test('every entry is consistent: positive prices and sizes, GPU memory exactly where there are GPUs', () => {
    for (const [type, entry] of Object.entries(SAGEMAKER_INSTANCES)) {
      expect([type, entry.hosting > 0, entry.vcpus >= 2, entry.memoryGib >= 4]).toEqual([
        type,
        true,
        true,
        true,
      ]);
      expect([type, entry.gpus > 0]).toEqual([type, entry.gpuMemoryGib > 0]);
    }
  });

  test('sageMakerInstance finds listed types only', () => {
    expect(sageMakerInstance('ml.c6i.large')).toMatchObject({ vcpus: 2, memoryGib: 4, gpus: 0 });
    expect(sageMakerInstance('ml.c6i.metal')).toBeUndefined();
    expect(sageMakerInstance('toString')).toBeUndefined();
  });
});
