import { Annotations, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { BootstrapModel } from '../constructs/ml/bootstrap-model';
import { DlcImage } from '../constructs/ml/dlc-image';
import { DataQualityMonitor } from '../constructs/ml/data-quality-monitor';
import { ModelEndpoint, type EndpointHosting } from '../constructs/ml/model-endpoint';
import { StagedModelData } from '../constructs/ml/staged-model-data';
import { TrainingRunCleanup } from '../constructs/ml/training-run-cleanup';
import { alarmThresholds } from '../constructs/monitoring/alarm-thresholds';
import { sageMakerInstance } from '../pricing/sagemaker-instances';
import type { DataStack } from './data-stack';

export interface MlStackProps extends StackProps {
  readonly config: AppConfig;
  readonly data: DataStack;
}

/**
 * The model endpoint, up and serving the design's bootstrap model from the first deploy. The
 * training pipeline (its own stack) later rolls trained models onto it.
 */
export class MlStack extends Stack {
  public readonly endpoint: ModelEndpoint;
  public readonly hosting: EndpointHosting;
  public readonly inferenceImage: DlcImage;
  /** The design's bootstrap model, packed as a `model.tar.gz` asset. */
  public readonly bootstrapModel: BootstrapModel;
  /** The bootstrap model copied where SageMaker reads models from, under a `.tar.gz` key. */
  public readonly stagedBootstrapModel: StagedModelData;
  /**
   * Deletes what training runs created, on destroy; only where the profile destroys (the sandbox).
   * The pipeline stack adds its resource for the registry.
   */
  public readonly runCleanup?: TrainingRunCleanup;
  /**
   * Data-quality monitoring of the endpoint's traffic; where the design declares it and the profile
   * turns it on. The training pipeline writes its baseline.
   */
  public readonly dataQualityMonitor?: DataQualityMonitor;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    super(scope, id, props);
    const { design, profile, capacity } = props.config;
    const logs = { logRetention: profile.logRetention, logRemovalPolicy: profile.removalPolicy };

    this.bootstrapModel = new BootstrapModel(this, 'Bootstrap', { files: design.model.bootstrapModel() });
    this.stagedBootstrapModel = new StagedModelData(this, 'StageBootstrapModel', {
      source: this.bootstrapModel.bundle.asset,
      bucket: props.data.artifacts.bucket,
      keyPrefix: `${ARTIFACT_PREFIXES.models}bootstrap/`,
      ...logs,
    });
    const profileEndpoint = profile.endpoint;
    // Instances: the type and the fleet chosen from the model's measured cost (`capacity.ts`).
    this.hosting =
      profileEndpoint.kind === 'serverless'
        ? profileEndpoint
        : { kind: 'instances', ...capacity.endpointScaling! };
    const hardware = capacity.endpointHardware;
    if (hardware && !hardware.meetsLatency) {
      Annotations.of(this).addWarningV2(
        'blueprint:endpoint-latency',
        `${design.id}: no endpoint instance answers within the model's ${hardware.latencyBudgetMs} ms p99 budget; ${hardware.why}`,
      );
    }
    // The GPU image only where the chosen instance has a GPU: the CPU image on a CPU instance.
    this.inferenceImage = DlcImage.pytorchInference(
      this.hosting.kind === 'instances' && (sageMakerInstance(this.hosting.instanceType)?.gpus ?? 0) > 0
        ? 'gpu'
        : 'cpu',
    );
    this.endpoint = new ModelEndpoint(this, 'Endpoint', {
      image: this.inferenceImage,
      initialModelData: {
        bucket: this.stagedBootstrapModel.bucket,
        key: this.stagedBootstrapModel.key,
        ready: this.stagedBootstrapModel,
      },
      // A serverless endpoint holds one variant: the A/B split needs instance hosting.
      variants:
        this.hosting.kind === 'serverless'
          ? [{ name: design.abVariants[0].name, weight: 1 }]
          : design.abVariants,
      hosting: this.hosting,
      alarmThresholds: alarmThresholds(design.requirements, capacity, design.abVariants).endpoint,
      alarmAction: props.data.alarms.action,
      dataCapture: {
        bucket: props.data.artifacts.bucket,
        prefix: ARTIFACT_PREFIXES.dataCapture,
        key: props.data.key,
      },
      ...logs,
    });
    const monitoring = profile.dataQualityMonitoring;
    const monitored = design.model.dataQualityMonitoring;
    if (monitoring && monitored && this.endpoint.dataCaptureConfig) {
      this.dataQualityMonitor = new DataQualityMonitor(this, 'DataQualityMonitor', {
        endpoint: this.endpoint,
        artifacts: props.data.artifacts.bucket,
        key: props.data.key,
        recordPreprocessor: monitored.recordPreprocessor,
        features: monitored.features,
        cadence: monitoring.cadence,
        instanceType: monitoring.instanceType,
        alarmAction: props.data.alarms.action,
      });
    }
    if (profile.removalPolicy === RemovalPolicy.DESTROY) {
      this.runCleanup = new TrainingRunCleanup(this, 'RunCleanup', {
        namePrefix: props.config.runNamePrefix,
        // Deleted before the cleanup runs: an endpoint config in use must not be deleted.
        deleteFirst: [this.endpoint.endpoint],
        ...logs,
      });
    }

    new CfnOutput(this, 'EndpointName', { value: this.endpoint.endpointName });
  }
}
