import type { SageMakerInstanceType } from './model-endpoint';

/**
 * Instance families whose instances come with local NVMe instance storage. SageMaker puts training
 * data, checkpoints and models on that storage, which a hardware module on the instance encrypts,
 * and it refuses a customer KMS key for it: "You can't request a VolumeKmsKeyId when using an
 * instance type with local storage" (CreateTrainingJob `ResourceConfig.VolumeKmsKeyId`); likewise
 * "If you specify a value for KmsKeyId when using any nitro-based instances with local storage, the
 * call to CreateEndpointConfig fails".
 *
 * The families: SageMaker's "Instance storage volumes" page
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html), and ResourceConfig's
 * "ML instance families with the NVMe-type instance storage include ml.p4d, ml.g4dn, and ml.g5".
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html
 */
export const LOCAL_STORAGE_FAMILIES: readonly string[] = [
  // Accelerated computing: every current GPU and Trainium family SageMaker trains on.
  'g4dn',
  'g5',
  'g6',
  'g6e',
  'gr6',
  'p3dn',
  'p4d',
  'p4de',
  'p5',
  'p5e',
  'p5en',
  'p6-b200',
  'trn1',
  'trn1n',
  'trn2',
  // General purpose, compute and memory optimised with a `d` (instance store) variant.
  'c5d',
  'c6id',
  'm5d',
  'm6id',
  'r5d',
  'r6id',
];

/** True when `instanceType` (e.g. `ml.g5.xlarge`) has local NVMe storage, so no volume KMS key is allowed. */
export function hasLocalInstanceStorage(instanceType: SageMakerInstanceType | string): boolean {
  const family = /^ml\.([a-z0-9-]+)\.[^.]+$/.exec(instanceType)?.[1];
  return family !== undefined && LOCAL_STORAGE_FAMILIES.includes(family);
}
