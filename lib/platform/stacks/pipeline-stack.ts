import * as path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config';
import { TRAINING_OUTPUT_FILES } from '../constructs/ml/artifact-layout';
import { DlcImage } from '../constructs/ml/dlc-image';
import { SourceBundle } from '../constructs/ml/source-bundle';
import { TrainingPipeline } from '../constructs/ml/training-pipeline';
import { BundledFunction } from '../constructs/compute/bundled-function';
import { CustomResourceHandler } from '../constructs/compute/custom-resource-handler';
import type { PrivateNetwork } from '../constructs/network/private-network';
import type { DataStack } from './data-stack';
import type { MlStack } from './ml-stack';
import type { ServingStack } from './serving-stack';

/** Where the design's entry point sits in the source bundle, beside its packages. */
const TRAINING_ENTRY_POINT = 'train.py';

export interface PipelineStackProps extends StackProps {
  readonly config: AppConfig;
  readonly network: PrivateNetwork;
  readonly data: DataStack;
  readonly ml: MlStack;
  readonly serving: ServingStack;
}

/**
 * Step 4 of the framework: the training pipeline with its evaluation gate and schedule, and the
 * bootstrap recommendation set loaded into the cache on the first deploy.
 */
export class PipelineStack extends Stack {
  public readonly pipeline: TrainingPipeline;
  public readonly notifications: sns.Topic;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { design, profile } = props.config;
    const { vpc, isolatedSubnets } = props.network;
    const artifacts = props.data.artifacts.bucket;

    this.notifications = new sns.Topic(this, 'Notifications', {
      displayName: `${design.id} training pipeline`,
      masterKey: props.data.key,
      enforceSSL: true,
    });

    const gate = new BundledFunction(this, 'EvaluationGate', {
      handlerFolder: 'platform/evaluation-gate',
      description: 'Decides whether a trained candidate replaces the champion',
      network: { vpc, subnets: isolatedSubnets },
      timeout: Duration.minutes(2),
      environment: {
        GATE_METRIC: design.model.gate.metric,
        GATE_BASELINE_METRIC: design.model.gate.baselineMetric,
        GATE_MIN_IMPROVEMENT_OVER_CHAMPION: String(design.model.gate.minImprovementOverChampion),
        GATE_MIN_IMPROVEMENT_OVER_BASELINE: String(design.model.gate.minImprovementOverBaseline),
        POWERTOOLS_SERVICE_NAME: 'evaluation-gate',
      },
      logRetention: profile.logRetention,
      logRemovalPolicy: profile.removalPolicy,
    });
    artifacts.grantRead(gate.function, 'models/*');
    artifacts.grantRead(gate.function, 'champion/*');
    props.data.key.grantDecrypt(gate.function);

    const loader = props.serving.cacheLoader.function;
    artifacts.grantRead(loader, 'models/*');
    props.data.key.grantDecrypt(loader);

    this.pipeline = new TrainingPipeline(this, 'Training', {
      namePrefix: props.config.runNamePrefix,
      artifacts,
      key: props.data.key,
      trainingImage: DlcImage.pytorchTrainingGpu(),
      inferenceImage: props.ml.inferenceImage,
      source: new SourceBundle(this, 'TrainingCode', {
        directory: design.model.sourceDirectory,
        include: design.model.packages,
        extraFiles: { [TRAINING_ENTRY_POINT]: path.join(design.model.sourceDirectory, design.model.entryPoint) },
      }),
      entryPoint: TRAINING_ENTRY_POINT,
      hyperparameters: { ...design.model.hyperparameters, k: String(design.requirements.topK) },
      metricNames: design.model.metricNames,
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
      gate: gate.function,
      cacheLoader: loader,
      notifications: this.notifications,
      cadence: Duration.hours(design.requirements.retrainEveryHours),
      scheduleEnabled: profile.training.scheduleEnabled,
      logRetention: profile.logRetention,
      removalPolicy: profile.removalPolicy,
      runCleanup: props.ml.runCleanup,
    });

    this.loadBootstrapSet(props, loader);
    new CfnOutput(this, 'StateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn });
  }

  /**
   * Loads the bootstrap set once, when the stack is created, and only into an empty cache: a later
   * deploy never replaces a trained set. A failed load fails the deployment.
   */
  private loadBootstrapSet(props: PipelineStackProps, loader: lambda.IFunction): void {
    const bundle = props.ml.bootstrap.recommendationSet;
    const set = bundle.asset;
    bundle.grantRead(loader);
    const invoker = new CustomResourceHandler(this, 'InvokeAtDeploy', {
      handlerFolder: 'platform/invoke-at-deploy',
      description: 'Invokes a function once at deploy and fails the deployment when it fails',
      timeout: Duration.minutes(5),
      logRetention: props.config.profile.logRetention,
      logRemovalPolicy: props.config.profile.removalPolicy,
    });
    loader.grantInvoke(invoker.role);
    invoker.addResource(this, 'LoadBootstrapSet', 'InvokeAtDeploy', {
      FunctionName: loader.functionName,
      Payload: JSON.stringify({
        bucket: set.s3BucketName,
        archiveKey: set.s3ObjectKey,
        recommendationsMember: TRAINING_OUTPUT_FILES.recommendations,
        popularityMember: TRAINING_OUTPUT_FILES.popularity,
        variant: props.ml.endpoint.variants[0].name,
        onlyIfEmpty: true,
      }),
    });
  }
}
