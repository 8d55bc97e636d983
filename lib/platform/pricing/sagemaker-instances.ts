/**
 * SageMaker instance types and their prices in us-east-1, on demand, in USD per instance-hour: the
 * one list of them (the cost estimate prices templates from it, and `chooseEndpointHardware` picks
 * each design's production endpoint from it).
 *
 * Hosting is a real-time endpoint's instance; training is a training job's, and a processing job
 * (Model Monitor, baselines) bills at the same rate for these types. Only the types the profiles
 * train or monitor on carry a training price. Spot training bills up to 90% less; Savings Plans are
 * not counted. The search of stored pages in December 2026 could not show these rows on the pricing
 * page itself (it renders them from a script); they are the page's figures as last read, each within
 * a cent of what third-party guides quote (ml.g5.xlarge about $1.41, ml.g5.2xlarge about $1.52,
 * ml.c6i.large $0.102, ml.g4dn.xlarge $0.7364, ml.m5.xlarge $0.23); the c7i and m7i rows were found
 * on no page at all: check them on https://aws.amazon.com/sagemaker/pricing/ ("Real-Time
 * Inference", US East (N. Virginia)) before relying on them.
 *
 * Every type is one SageMaker real-time hosting accepts: test/platform/pricing checks each against
 * `ProductionVariantInstanceType` of the pinned SageMaker API model, and each training price
 * against `TrainingInstanceType`. vCPUs, memory and GPUs are the EC2 instance's of the same name.
 */

export const PRICES_AS_OF = '2026-12';
export const PRICES_SOURCE = 'https://aws.amazon.com/sagemaker/pricing/';

export interface SageMakerInstancePrice {
  /** USD per hour of a real-time endpoint instance. */
  readonly hosting: number;
  /**
   * USD per hour of a training (or processing) job instance, on demand.
   * @default - not priced: no profile trains or monitors on it
   */
  readonly training?: number;
  readonly vcpus: number;
  readonly memoryGib: number;
  /** NVIDIA GPUs, 0 for a CPU instance. */
  readonly gpus: number;
  /** Memory of each GPU; 0 for a CPU instance. */
  readonly gpuMemoryGib: number;
}

export const SAGEMAKER_INSTANCES = {
  // GPU: one NVIDIA A10G (g5) or T4 (g4dn), each with local NVMe storage.
  'ml.g5.xlarge': { hosting: 1.408, training: 1.408, vcpus: 4, memoryGib: 16, gpus: 1, gpuMemoryGib: 24 },
  'ml.g5.2xlarge': { hosting: 1.515, training: 1.515, vcpus: 8, memoryGib: 32, gpus: 1, gpuMemoryGib: 24 },
  'ml.g4dn.xlarge': { hosting: 0.7364, vcpus: 4, memoryGib: 16, gpus: 1, gpuMemoryGib: 16 },
  // General purpose: Model Monitor's processing instance, and memory for a larger model.
  'ml.m5.xlarge': { hosting: 0.23, training: 0.23, vcpus: 4, memoryGib: 16, gpus: 0, gpuMemoryGib: 0 },
  'ml.m7i.large': { hosting: 0.121, vcpus: 2, memoryGib: 8, gpus: 0, gpuMemoryGib: 0 },
  'ml.m7i.xlarge': { hosting: 0.2419, vcpus: 4, memoryGib: 16, gpus: 0, gpuMemoryGib: 0 },
  // Compute optimised: 2 GiB per vCPU.
  'ml.c6i.large': { hosting: 0.102, vcpus: 2, memoryGib: 4, gpus: 0, gpuMemoryGib: 0 },
  'ml.c6i.xlarge': { hosting: 0.204, vcpus: 4, memoryGib: 8, gpus: 0, gpuMemoryGib: 0 },
  'ml.c7i.large': { hosting: 0.1071, vcpus: 2, memoryGib: 4, gpus: 0, gpuMemoryGib: 0 },
  'ml.c7i.xlarge': { hosting: 0.2142, vcpus: 4, memoryGib: 8, gpus: 0, gpuMemoryGib: 0 },
} as const satisfies Readonly<Record<`ml.${string}.${string}`, SageMakerInstancePrice>>;

export type PricedInstanceType = keyof typeof SAGEMAKER_INSTANCES;

/** The listed entry of `instanceType`, or undefined where the list has none. */
export function sageMakerInstance(instanceType: string): SageMakerInstancePrice | undefined {
  return Object.hasOwn(SAGEMAKER_INSTANCES, instanceType)
    ? (SAGEMAKER_INSTANCES as Readonly<Record<string, SageMakerInstancePrice>>)[instanceType]
    : undefined;
}
