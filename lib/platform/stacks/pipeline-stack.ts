import * as path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import type { ModelCode } from '../config/design';
import type { Profile } from '../config/profile';
import type { PrivateNetwork } from '../constructs/network/private-network';
import { DlcImage } from '../constructs/ml/dlc-image';
import { EvaluationGate } from '../constructs/ml/evaluation-gate';
import { SourceBundle } from '../constructs/ml/source-bundle';
import { readSearchSpace } from '../constructs/ml/pipeline/search-space';
import {
  TrainingPipeline,
  type AfterPromotion,
  type AutomaticModelTuning,
} from '../constructs/ml/training-pipeline';
import type { DataStack } from './data-stack';
import type { MlStack } from './ml-stack';

/** Where the design's entry point sits in the source bundle, beside its packages. */
const TRAINING_ENTRY_POINT = 'train.py';

export interface PipelineStackProps extends StackProps {
  readonly config: AppConfig;
  readonly network: PrivateNetwork;
  readonly data: DataStack;
  readonly ml: MlStack;
  /**
   * The design's step once a promoted model serves (see `AfterPromotion`); the grants it needs are
   * the caller's to give.
   * @default - none: a promotion is recorded as soon as the endpoint serves the new model
   */
  readonly afterPromotion?: AfterPromotion;
}

/**
 * Step 4 of the framework: the training pipeline, with the evaluation gate that judges each
 * candidate by the design's metric, direction and range, and the schedule that starts it.
 */
export class PipelineStack extends Stack {
  public readonly pipeline: TrainingPipeline;
  public readonly notifications: sns.Topic;
  public readonly gate: EvaluationGate;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { design, profile } = props.config;
    const { model } = design;
    const { vpc, isolatedSubnets } = props.network;
    const artifacts = props.data.artifacts.bucket;

    this.notifications = new sns.Topic(this, 'Notifications', {
      displayName: `${design.id} training pipeline`,
      masterKey: props.data.key,
      enforceSSL: true,
    });
    this.gate = new EvaluationGate(this, 'EvaluationGate', {
      policy: model.gate,
      metricNames: model.metricNames,
      artifacts,
      encryptionKey: props.data.key,
      network: { vpc, subnets: isolatedSubnets },
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    this.pipeline = new TrainingPipeline(this, 'Training', {
      namePrefix: props.config.runNamePrefix,
      artifacts,
      key: props.data.key,
      trainingImage: DlcImage.pytorchTrainingGpu(),
      inferenceImage: props.ml.inferenceImage,
      source: new SourceBundle(this, 'TrainingCode', {
        directory: model.sourceDirectory,
        include: model.packages,
        extraFiles: { [TRAINING_ENTRY_POINT]: path.join(model.sourceDirectory, model.entryPoint) },
      }),
      entryPoint: TRAINING_ENTRY_POINT,
      hyperparameters: model.hyperparameters,
      metricNames: model.metricNames,
      resources: {
        instanceType: profile.training.instanceType,
        instanceCount: profile.training.instanceCount,
        maxRuntime: Duration.hours(profile.training.maxRuntimeHours),
        volumeSizeGb: profile.training.volumeSizeGb,
        spot: profile.training.spot,
      },
      vpc,
      subnets: isolatedSubnets,
      endpoint: props.ml.endpoint,
      hosting: props.ml.hosting,
      gate: this.gate.function,
      afterPromotion: props.afterPromotion,
      registryDescription: model.registryDescription,
      notifications: this.notifications,
      cadence: Duration.hours(design.requirements.retrainEveryHours),
      scheduleEnabled: profile.training.scheduleEnabled,
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
      runCleanup: props.ml.runCleanup,
      dataQualityMonitor: props.ml.dataQualityMonitor,
      warmStart: model.warmStart ?? false,
      tuning: automaticModelTuning(model, profile),
    });

    new CfnOutput(this, 'StateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn });
  }
}

/**
 * The tuning job of a design that asks SageMaker to search, where the profile allows it; its
 * objective is the gate's metric and direction, which the search space must name too.
 */
function automaticModelTuning(model: ModelCode, profile: Profile): AutomaticModelTuning | undefined {
  const tuning = model.tuning;
  if (tuning?.mode !== 'sagemaker' || !profile.training.automaticModelTuning) return undefined;
  const searchSpace = readSearchSpace(tuning.searchSpace);
  const direction = model.gate.direction === 'higher-is-better' ? 'maximize' : 'minimize';
  const problems: string[] = [];
  if (searchSpace.objective.metric !== model.gate.metric) {
    problems.push(
      `objective.metric: "${searchSpace.objective.metric}" is not the gate's metric "${model.gate.metric}"`,
    );
  }
  if (searchSpace.objective.direction !== direction) {
    problems.push(
      `objective.direction: "${searchSpace.objective.direction}" disagrees with the gate (${model.gate.direction})`,
    );
  }
  if (problems.length > 0) {
    throw new Error(`Invalid search space ${tuning.searchSpace}:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    searchSpace,
    objective: { metric: model.gate.metric, type: direction === 'maximize' ? 'Maximize' : 'Minimize' },
    maxJobs: tuning.maxJobs,
    maxParallelJobs: tuning.maxParallelJobs,
    strategy: tuning.strategy,
  };
}
