import { hasLocalStorage, LocalStorageVolumeKms } from '../../lib/platform/rules/local-storage-volume-kms';
import { findings, stack, stateMachine, task, tasks } from './fixtures';

const TRAIN = 'arn:aws:states:::sagemaker:createTrainingJob.sync';
const resourceConfig = (instanceType: unknown, key?: unknown) => ({
  ResourceConfig: {
    InstanceType: instanceType,
    InstanceCount: 1,
    VolumeSizeInGB: 30,
    ...(key ? { VolumeKmsKeyId: key } : {}),
  },
});

describe('local-storage-volume-kms', () => {
  test('knows the NVMe families and nothing else', () => {
    expect(
      ['ml.g5.xlarge', 'ml.g4dn.2xlarge', 'ml.p4d.24xlarge', 'ml.m5d.large'].map(hasLocalStorage),
    ).toEqual([true, true, true, true]);
    expect(
      ['ml.m5.xlarge', 'ml.c5.large', 'ml.p3.2xlarge', 'g5.xlarge', undefined].map(hasLocalStorage),
    ).toEqual([false, false, false, false, false]);
  });

  test('compliant: a key on EBS-only instances, no key on NVMe instances, unknown instance types', () => {
    const pipeline = stack('p', {
      Machine: stateMachine(
        tasks({
          Ebs: [TRAIN, resourceConfig('ml.m5.xlarge', { 'Fn::GetAtt': ['Key', 'Arn'] })],
          Nvme: [TRAIN, resourceConfig('ml.g5.xlarge')],
          Unknown: [TRAIN, { ResourceConfig: { 'InstanceType.$': '$.type', VolumeKmsKeyId: 'k' } }],
        }),
      ),
      Config: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: {
          KmsKeyId: 'k',
          ProductionVariants: [{ VariantName: 'a', InstanceType: 'ml.c5.large' }],
        },
      },
    });
    expect(findings(LocalStorageVolumeKms, pipeline)).toEqual([]);
  });

  test('non-compliant: VolumeKmsKeyId on g5, KmsKeyId with a g4dn variant', () => {
    const pipeline = stack('p', {
      Machine: stateMachine(
        task('Train', TRAIN, resourceConfig('ml.g5.2xlarge', { 'Fn::GetAtt': ['Key', 'Arn'] })),
      ),
      Key: { Type: 'AWS::KMS::Key' },
      Config: {
        Type: 'AWS::SageMaker::EndpointConfig',
        Properties: {
          KmsKeyId: { Ref: 'Key' },
          ProductionVariants: [
            { VariantName: 'a', InstanceType: 'ml.c5.large' },
            { VariantName: 'b', InstanceType: 'ml.g4dn.xlarge' },
          ],
        },
      },
    });
    expect(findings(LocalStorageVolumeKms, pipeline)).toEqual([
      'Config @ Properties/KmsKeyId',
      'Machine @ States/Train/Parameters/ResourceConfig/VolumeKmsKeyId',
    ]);
  });
});
