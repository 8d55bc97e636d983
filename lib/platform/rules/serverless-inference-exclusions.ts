import { finding, type BlueprintRule, type Finding } from './core/rule';
import {
  describeRequest as describe,
  isServerless,
  modelsServedBy,
  sagemakerRequests,
} from './core/sagemaker-requests';

/**
 * A serverless endpoint config takes no KMS key, no data capture and exactly one production
 * variant, and the models it serves use neither network isolation nor a VPC.
 *
 * https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions
 * "Some of the features currently available for SageMaker Real-time Inference are not supported for
 * Serverless Inference, including GPUs, AWS marketplace model packages, private Docker registries,
 * Multi-Model Endpoints, KMS keys, VPC configuration, network isolation, data capture, multiple
 * production variants, Model Monitor, and inference pipelines."
 *
 *
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html
 * (ModelDataSource) "Currently you cannot use ModelDataSource in conjunction with SageMaker batch
 * transform, SageMaker serverless endpoints, SageMaker multi-model endpoints, and SageMaker
 * Marketplace."
 *
 * Applies to `AWS::SageMaker::EndpointConfig` and `AWS::SageMaker::Model` resources, and to the
 * CreateEndpointConfig and CreateModel requests of state machines (the models of a state machine's
 * serverless config are the CreateModel requests of the same definition).
 */
export const ServerlessInferenceExclusions: BlueprintRule = {
  id: 'serverless-inference-exclusions',
  description:
    'A serverless endpoint config has one variant, no KmsKeyId, no DataCaptureConfig; its models set neither EnableNetworkIsolation, VpcConfig nor ModelDataSource.',
  documentation:
    'https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions',
  check(set) {
    const findings: Finding[] = [];
    for (const config of sagemakerRequests(set, 'CreateEndpointConfig').filter(isServerless)) {
      const at = (member: string) => `${config.location}/${member}`;
      const what = describe(config);
      if (config.params.KmsKeyId !== undefined) {
        findings.push(
          finding(config.ref, at('KmsKeyId'), `${what} sets KmsKeyId: serverless endpoints take no KMS key`),
        );
      }
      const capture = config.params.DataCaptureConfig as Record<string, unknown> | undefined;
      if (capture !== undefined && capture.EnableCapture !== false) {
        findings.push(
          finding(
            config.ref,
            at('DataCaptureConfig'),
            `${what} captures data: serverless endpoints support no data capture`,
          ),
        );
      }
      const variants = config.params.ProductionVariants;
      if (Array.isArray(variants) && variants.length !== 1) {
        findings.push(
          finding(
            config.ref,
            at('ProductionVariants'),
            `${what} has ${variants.length} production variants: a serverless endpoint has exactly one`,
          ),
        );
      }
      for (const model of modelsServedBy(set, config)) {
        const served = `${describe(model)}, served by the serverless ${describe(config)},`;
        if (model.params.EnableNetworkIsolation === true) {
          findings.push(
            finding(
              model.ref,
              `${model.location}/EnableNetworkIsolation`,
              `${served} enables network isolation: serverless endpoints do not support it`,
            ),
          );
        }
        if (model.params.VpcConfig !== undefined) {
          findings.push(
            finding(
              model.ref,
              `${model.location}/VpcConfig`,
              `${served} sets VpcConfig: serverless endpoints run in no VPC`,
            ),
          );
        }
        const containers = [model.params.PrimaryContainer, ...asArray(model.params.Containers)];
        containers.forEach((container, i) => {
          if ((container as { ModelDataSource?: unknown } | undefined)?.ModelDataSource === undefined) return;
          findings.push(
            finding(
              model.ref,
              `${model.location}/${i === 0 ? 'PrimaryContainer' : `Containers/${i - 1}`}/ModelDataSource`,
              `${served} takes its model from ModelDataSource, which serverless endpoints do not accept: use ModelDataUrl`,
            ),
          );
        });
      }
    }
    return findings;
  },
};

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
