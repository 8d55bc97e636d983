import { hasLocalInstanceStorage } from '../constructs/ml/instance-storage';
import { finding, type BlueprintRule, type Finding } from './core/rule';
import { describeRequest, sagemakerRequests, variantsOf } from './core/sagemaker-requests';

/** True for an instance type (any value) whose family has local NVMe storage. */
export function hasLocalStorage(instanceType: unknown): boolean {
  return typeof instanceType === 'string' && hasLocalInstanceStorage(instanceType);
}

/**
 * No volume KMS key on instances with local storage: the request fails.
 *
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html
 * (VolumeKmsKeyId) "Certain Nitro-based instances include local storage, dependent on the instance
 * type. Local storage volumes are encrypted using a hardware module on the instance. You can't
 * request a VolumeKmsKeyId when using an instance type with local storage."
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html (KmsKeyId)
 * "If you specify a value for KmsKeyId when using any nitro-based instances with local storage, the
 * call to CreateEndpointConfig fails."
 *
 * Applies to CreateTrainingJob (ResourceConfig, InstanceGroups) and CreateTransformJob requests of
 * state machines, and to endpoint configs, resources or requests.
 */
export const LocalStorageVolumeKms: BlueprintRule = {
  id: 'local-storage-volume-kms',
  description:
    'A training job, transform job or endpoint config on an instance type with local NVMe storage requests no volume KMS key.',
  documentation: 'https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html',
  check(set) {
    const findings: Finding[] = [];
    for (const job of sagemakerRequests(set, 'CreateTrainingJob')) {
      const resources = (job.params.ResourceConfig ?? {}) as Record<string, unknown>;
      if (resources.VolumeKmsKeyId === undefined) continue;
      const groups = Array.isArray(resources.InstanceGroups)
        ? (resources.InstanceGroups as Array<Record<string, unknown>>).map((g) => g.InstanceType)
        : [];
      const local = [resources.InstanceType, ...groups].filter(hasLocalStorage);
      if (local.length > 0) {
        findings.push(
          finding(
            job.ref,
            `${job.location}/ResourceConfig/VolumeKmsKeyId`,
            `${describeRequest(job)} requests VolumeKmsKeyId on ${local.join(', ')}, an instance type with local storage: CreateTrainingJob fails`,
          ),
        );
      }
    }
    for (const job of sagemakerRequests(set, 'CreateTransformJob')) {
      const resources = (job.params.TransformResources ?? {}) as Record<string, unknown>;
      if (resources.VolumeKmsKeyId !== undefined && hasLocalStorage(resources.InstanceType)) {
        findings.push(
          finding(
            job.ref,
            `${job.location}/TransformResources/VolumeKmsKeyId`,
            `${describeRequest(job)} requests VolumeKmsKeyId on ${resources.InstanceType}, an instance type with local storage: CreateTransformJob fails`,
          ),
        );
      }
    }
    for (const config of sagemakerRequests(set, 'CreateEndpointConfig')) {
      if (config.params.KmsKeyId === undefined) continue;
      const local = variantsOf(config.params)
        .map((v) => v.InstanceType)
        .filter(hasLocalStorage);
      if (local.length > 0) {
        findings.push(
          finding(
            config.ref,
            `${config.location}/KmsKeyId`,
            `${describeRequest(config)} sets KmsKeyId with variants on ${[...new Set(local)].join(', ')}, instance types with local storage: CreateEndpointConfig fails`,
          ),
        );
      }
    }
    return findings;
  },
};
