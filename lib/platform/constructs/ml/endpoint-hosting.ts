import type { DeploymentConfig, UpdateEndpointInput } from '@aws-sdk/client-sagemaker';
import { Aws } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { AbVariant } from '../../config/design';

/** A SageMaker hosting instance type, e.g. `ml.g5.xlarge`. */
export type SageMakerInstanceType = `ml.${string}.${string}`;

/**
 * How the endpoint runs. Serverless costs nothing while idle but serves one variant, on CPU, without
 * data capture or deployment guardrails; instances serve A/B variants and scale with load.
 */
export type EndpointHosting =
  | { readonly kind: 'serverless'; readonly memorySizeMb: number; readonly maxConcurrency: number }
  | {
      readonly kind: 'instances';
      readonly instanceType: SageMakerInstanceType;
      readonly minInstances: number;
      readonly maxInstances: number;
      /** Target of the target-tracking policy: invocations per instance per minute. */
      readonly targetInvocationsPerInstancePerMinute: number;
      /**
       * Model-server workers per instance, each loading its own copy of the model
       * (`SAGEMAKER_MODEL_SERVER_WORKERS`).
       * @default - the model server's default: one per GPU, or one per vCPU on a CPU instance
       */
      readonly workersPerInstance?: number;
    };

/** Every problem of hosting `variants` as `hosting` describes, each naming its field. */
export function hostingProblems(hosting: EndpointHosting, variants: readonly AbVariant[]): string[] {
  const problems: string[] = [];
  if (variants.length === 0) problems.push('variants: at least one is required');
  if (hosting.kind === 'serverless') {
    if (variants.length > 1) problems.push('variants: a serverless endpoint serves exactly one variant');
    if (hosting.memorySizeMb < 1024 || hosting.memorySizeMb > 6144 || hosting.memorySizeMb % 1024 !== 0) {
      problems.push('hosting.memorySizeMb: must be 1024 to 6144 in steps of 1024');
    }
    if (hosting.maxConcurrency < 1 || hosting.maxConcurrency > 200) {
      problems.push('hosting.maxConcurrency: must be 1 to 200');
    }
  } else {
    if (hosting.minInstances < 2) {
      problems.push('hosting.minInstances: the one-instance canary needs at least 2 instances per variant');
    }
    if (hosting.maxInstances < hosting.minInstances) {
      problems.push('hosting.maxInstances: must be at least minInstances');
    }
    const workers = hosting.workersPerInstance;
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
      problems.push('hosting.workersPerInstance: must be a positive integer');
    }
  }
  return problems;
}

/** Where every `model.tar.gz` keeps its inference handlers, the member `inferenceEnvironment` names. */
export const INFERENCE_CODE_MEMBER = 'code/inference.py';

/**
 * The environment of the PyTorch inference container: handlers from `code/inference.py`, and on
 * instances the number of model-server workers where the hosting sets it. The toolkit passes
 * `SAGEMAKER_MODEL_SERVER_WORKERS` to TorchServe as `default_workers_per_model`, whose own default
 * is one worker per GPU, or per vCPU
 * (https://github.com/aws/sagemaker-pytorch-inference-toolkit/blob/master/src/sagemaker_pytorch_serving_container/torchserve.py,
 * https://github.com/pytorch/serve/blob/master/docs/configuration.md).
 */
export function inferenceEnvironment(hosting?: EndpointHosting): Record<string, string> {
  const workers = hosting?.kind === 'instances' ? hosting.workersPerInstance : undefined;
  return {
    SAGEMAKER_PROGRAM: 'inference.py',
    // The archive is unpacked into /opt/ml/model.
    SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
    SAGEMAKER_CONTAINER_LOG_LEVEL: '20',
    SAGEMAKER_REGION: Aws.REGION,
    ...(workers === undefined ? {} : { SAGEMAKER_MODEL_SERVER_WORKERS: String(workers) }),
  };
}

/** One production variant; trained models reuse it in the pipeline's endpoint configs. */
export function productionVariant(
  variant: AbVariant,
  modelName: string,
  hosting: EndpointHosting,
): sagemaker.CfnEndpointConfig.ProductionVariantProperty {
  return hosting.kind === 'serverless'
    ? {
        variantName: variant.name,
        modelName,
        initialVariantWeight: variant.weight,
        serverlessConfig: { memorySizeInMb: hosting.memorySizeMb, maxConcurrency: hosting.maxConcurrency },
      }
    : {
        variantName: variant.name,
        modelName,
        initialVariantWeight: variant.weight,
        instanceType: hosting.instanceType,
        initialInstanceCount: hosting.minInstances,
      };
}

/**
 * Blue/green with a one-instance canary that bakes for five minutes, then all traffic; any rollback
 * alarm in that time sends traffic back to the old fleet. In the SageMaker API's casing, typed by the
 * SDK: `UpdateEndpoint` takes it as is, and CloudFormation takes it through `toCfnCasing`.
 */
export function blueGreenCanary(alarms: readonly cloudwatch.IAlarm[]): DeploymentConfig {
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: {
        Type: 'CANARY',
        CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 },
        WaitIntervalInSeconds: 300,
      },
      TerminationWaitInSeconds: 300,
      MaximumExecutionTimeoutInSeconds: 3600,
    },
    AutoRollbackConfiguration: { Alarms: alarms.map((alarm) => ({ AlarmName: alarm.alarmName })) },
  };
}

/**
 * Variant properties an update takes from the new endpoint config even with
 * `RetainAllVariantProperties`: the A/B weights and data capture. Instance counts, which auto-scaling
 * moves, are kept. https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VariantProperty.html
 */
export const NOT_RETAINED_ON_UPDATE: NonNullable<UpdateEndpointInput['ExcludeRetainedVariantProperties']> = [
  { VariantPropertyType: 'DesiredWeight' },
  { VariantPropertyType: 'DataCaptureConfig' },
];

/**
 * Network isolation keeps the container off every network: it needs nothing, code and weights come
 * in model.tar.gz. Serverless Inference does not support it ("Some of the features currently
 * available for SageMaker AI Real-time Inference are not supported for Serverless Inference,
 * including GPUs, AWS marketplace model packages, private Docker registries, Multi-Model Endpoints,
 * VPC configuration, network isolation, data capture, multiple production variants, Model Monitor,
 * and inference pipelines",
 * https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions),
 * so a model meant for a serverless endpoint must not ask for it.
 */
export function networkIsolation(hosting: EndpointHosting): boolean {
  return hosting.kind === 'instances';
}

/**
 * An API request fragment in CloudFormation's casing (`KmsKeyId` -> `kmsKeyId`): the SDK-typed value
 * is the one source, and CloudFormation gets exactly what the pipeline sends to the API.
 */
export function toCfnCasing<CfnProperty>(value: object): CfnProperty {
  const convert = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(convert);
    if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(
        Object.entries(v).map(([k, inner]) => [k.charAt(0).toLowerCase() + k.slice(1), convert(inner)]),
      );
    }
    return v;
  };
  return convert(value) as CfnProperty;
}
