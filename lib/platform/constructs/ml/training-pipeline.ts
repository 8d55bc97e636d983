import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { CustomResourceHandler } from '../compute/custom-resource-handler';
import { FailureHandling } from '../workflow/failure-handling';
import { createPipelineStateMachine } from '../workflow/pipeline-state-machine';
import type { DlcImage } from './dlc-image';
import type { EndpointHosting } from './endpoint-hosting';
import type { ModelEndpoint } from './model-endpoint';
import type { DataQualityMonitor } from './data-quality-monitor';
import { BaselineStep } from './pipeline/baseline';
import { EvaluateStep } from './pipeline/evaluate';
import { PromoteStep, type AfterPromotion } from './pipeline/promote';
import { RegisterStep } from './pipeline/register';
import { RollOutStep } from './pipeline/roll-out';
import type { GuardableTask, PipelineScope } from './pipeline/run-state';
import type { SearchSpace } from './pipeline/search-space';
import { TrainStep, type TrainingResources } from './pipeline/train';
import { MAX_TUNING_JOB_NAME, TUNING_NAME_SUFFIX, TuneStep } from './pipeline/tune';
import type { SourceBundle } from './source-bundle';

export type { AfterPromotion, PromotedRun } from './pipeline/promote';
export { TERMINAL_ENDPOINT_FAILURES } from './pipeline/roll-out';
export type { TrainingResources } from './pipeline/train';

export interface TrainingPipelineProps {
  /**
   * Starts the name of every training job, model and endpoint config a run creates
   * (`<prefix>-<uuid>`), scopes the pipeline's IAM to them, and names the pipeline in its
   * notifications: derived from the design and profile, so two deployments in one account never
   * touch each other's. Lower-case letters, digits and `-`, at most 26 characters (SageMaker names
   * are at most 63).
   */
  readonly namePrefix: string;
  readonly artifacts: s3.IBucket;
  readonly key: kms.IKey;
  readonly trainingImage: DlcImage;
  readonly inferenceImage: DlcImage;
  /** The model code packed as script mode's `sourcedir.tar.gz`. */
  readonly source: SourceBundle;
  /** Entry point inside the source bundle. */
  readonly entryPoint: string;
  /** Hyperparameters passed as `--name value` to the entry point. @default - the script's defaults */
  readonly hyperparameters?: Readonly<Record<string, string>>;
  /** Metric names the training script prints as `metric: <name>=<value>`. */
  readonly metricNames: readonly string[];
  readonly resources: TrainingResources;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /**
   * The training jobs' execution role; it must trust `sagemaker.amazonaws.com`, and gets what a job
   * needs (read the training channels, write models and checkpoints, logs, network interfaces).
   * @default - a new role with exactly those grants
   */
  readonly trainingRole?: iam.IRole;
  readonly endpoint: ModelEndpoint;
  readonly hosting: EndpointHosting;
  /** The evaluation gate (`lambda/platform/evaluation-gate/`), its policy in its environment. */
  readonly gate: lambda.IFunction;
  /**
   * The design's step once a promoted model serves, e.g. loading its batch output; the grants it
   * needs are the caller's to give.
   * @default - none: the promotion is recorded as soon as the endpoint serves the new model
   */
  readonly afterPromotion?: AfterPromotion;
  /**
   * The Model Registry group's description. CloudFormation replaces the group when it changes, and
   * a named group cannot be replaced in place: keep it once deployed.
   * @default 'Models that passed the evaluation gate'
   */
  readonly registryDescription?: string;
  readonly notifications: sns.ITopic;
  /** How often the schedule starts a run. */
  readonly cadence: Duration;
  /** Start runs on the schedule; when false the schedule exists but is disabled. */
  readonly scheduleEnabled: boolean;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What `cdk destroy` does. With `DESTROY`, the destroy also deletes what runs created outside
   * CloudFormation (model package versions, training log streams), so nothing is left behind.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The handler that deletes what runs created (`lambda/platform/sagemaker-cleanup`), with
   * permissions for names starting with `namePrefix`; required when `removalPolicy` is `DESTROY`.
   * @default - none: nothing is cleaned up, which only a retaining removal policy allows
   */
  readonly runCleanup?: CustomResourceHandler;
  /**
   * The endpoint's data-quality monitor: once a promoted model serves, the run's baseline sample
   * becomes its baseline (`./pipeline/baseline.ts`).
   * @default - none: no baselining step
   */
  readonly dataQualityMonitor?: DataQualityMonitor;
  /**
   * Start each run from the champion's model (a `champion` channel once a promotion is recorded).
   * @default false
   */
  readonly warmStart?: boolean;
  /**
   * Search the hyperparameters with a SageMaker automatic model tuning job instead of one training
   * job; its best trial is the candidate.
   * @default - one training job, which searches within itself if the script does
   */
  readonly tuning?: AutomaticModelTuning;
}

/** An automatic model tuning job per run (see `./pipeline/tune.ts`). */
export interface AutomaticModelTuning {
  readonly searchSpace: SearchSpace;
  /** The gate's metric and direction, one of `metricNames`. */
  readonly objective: { readonly metric: string; readonly type: 'Maximize' | 'Minimize' };
  readonly maxJobs: number;
  readonly maxParallelJobs: number;
  readonly strategy: 'Bayesian' | 'Random';
}

/** SageMaker names are at most 63 characters; a run appends `-` and a 36-character UUID. */
const MAX_NAME_PREFIX = 63 - 37;

/**
 * The training pipeline, a Step Functions state machine composed of its parts (`./pipeline/`):
 * name the run; train on a GPU (script mode, `.sync`); evaluate the candidate against the champion
 * and a baseline; register it; roll it out as the champion variant and wait until the endpoint
 * serves it; run the design's step after a promotion, if it has one; record the new champion;
 * notify. Every task retries throttling with backoff and routes any failure to one handler that
 * records why and notifies. A run is started by its schedule or on demand.
 */
export class TrainingPipeline extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly trainingRole: iam.IRole;
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  public readonly schedule: scheduler.Schedule;
  public readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    validateProps(props);
    const { artifacts, endpoint, namePrefix } = props;
    this.namePrefix = namePrefix;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const subject = (what: string) => `${namePrefix}: ${what}`;
    const failures = new FailureHandling(this, 'Failures', {
      topic: props.notifications,
      subject: subject('training pipeline failed'),
    });
    const pipeline: PipelineScope = {
      scope: this,
      namePrefix,
      notifications: props.notifications,
      subject,
      failures,
      guard: <T extends GuardableTask>(task: T): T => failures.guard(task),
    };
    const inferenceImageUri = props.inferenceImage.imageUri(this);

    const nameRun = new sfn.Pass(this, 'NameRun', {
      comment: 'One name for the job, model, endpoint config and package of this run',
      parameters: { 'jobName.$': `States.Format('${namePrefix}-{}', States.UUID())` },
      resultPath: '$.run',
    });
    const train = new TrainStep(pipeline, {
      artifacts,
      key: props.key,
      image: props.trainingImage,
      source: props.source,
      entryPoint: props.entryPoint,
      hyperparameters: props.hyperparameters,
      metricNames: props.metricNames,
      resources: props.resources,
      vpc: props.vpc,
      subnets: props.subnets,
      role: props.trainingRole,
      // A tuning job's trials train from scratch (`./pipeline/tune.ts`).
      warmStart: (props.warmStart ?? false) && !props.tuning,
    });
    this.trainingRole = train.role;
    const tune =
      props.tuning &&
      new TuneStep(pipeline, { ...props.tuning, train, maxRuntime: props.resources.maxRuntime });
    const evaluate = new EvaluateStep(pipeline, { gate: props.gate, artifacts });
    const register = new RegisterStep(pipeline, {
      inferenceImageUri,
      description: props.registryDescription ?? 'Models that passed the evaluation gate',
      removalPolicy,
      runCleanup: props.runCleanup,
    });
    this.modelPackageGroup = register.modelPackageGroup;
    const rollOut = new RollOutStep(pipeline, {
      endpoint,
      hosting: props.hosting,
      inferenceImageUri,
      artifacts,
      key: props.key,
    });
    const promote = new PromoteStep(pipeline, {
      artifacts,
      championVariant: endpoint.variants[0].name,
      afterPromotion: props.afterPromotion,
      recordModel: props.warmStart ?? false,
    });

    const baseline =
      props.dataQualityMonitor &&
      new BaselineStep(pipeline, { artifacts, key: props.key, monitor: props.dataQualityMonitor });
    let inService: sfn.IChainable = promote.start;
    if (baseline) {
      baseline.end.next(promote.start);
      inService = baseline.start;
    }

    const trained = tune ? sfn.Chain.custom(tune.start, [tune.end], tune.end) : train.start;
    const definition = nameRun
      .next(trained)
      .next(evaluate.task)
      .next(evaluate.decide(sfn.Chain.start(register.task).next(rollOut.thenWaitFor(inService))));

    ({ stateMachine: this.stateMachine, schedule: this.schedule } = createPipelineStateMachine(this, {
      definition,
      timeout: (tune?.maxRuntime ?? props.resources.maxRuntime).plus(Duration.hours(3)),
      logExecutionData: true,
      schedule: scheduler.ScheduleExpression.rate(props.cadence),
      scheduleDescription: 'Retrains the model on the cadence of the requirements',
      scheduleEnabled: props.scheduleEnabled,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    }));
    this.stateMachine.node.addDependency(this.modelPackageGroup);
    if (tune) tune.grantStart(this.stateMachine, train.role);
    else train.grantStart(this.stateMachine);
    baseline?.grantStart(this.stateMachine);
    rollOut.grant(this.stateMachine.role);
    // RecordChampion writes to the SSE-KMS artefacts bucket, and the notifications go to a topic
    // encrypted with the same key: both need the data key from KMS.
    props.key.grant(this.stateMachine.role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
}

function validateProps(props: TrainingPipelineProps): void {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]*$/.test(props.namePrefix) || props.namePrefix.length > MAX_NAME_PREFIX) {
    problems.push(
      `namePrefix: lower-case letters, digits and '-', starting with a letter, at most ${MAX_NAME_PREFIX} characters; got "${props.namePrefix}"`,
    );
  }
  if (props.resources.instanceCount < 1) problems.push('resources.instanceCount: at least 1');
  if (props.metricNames.length === 0) problems.push('metricNames: at least the metric the gate judges');
  if (props.removalPolicy === RemovalPolicy.DESTROY && !props.runCleanup) {
    problems.push(
      'runCleanup: required with RemovalPolicy.DESTROY, or the destroy leaves run artefacts behind',
    );
  }
  if (props.tuning) collectTuningProblems(props, props.tuning, problems);
  if (problems.length > 0) throw new Error(`Invalid TrainingPipeline props:\n  - ${problems.join('\n  - ')}`);
}

/**
 * What CreateHyperParameterTuningJob would reject, or what would make the runs misbehave, known
 * from the props alone (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateHyperParameterTuningJob.html,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceLimits.html).
 */
function collectTuningProblems(
  props: TrainingPipelineProps,
  tuning: AutomaticModelTuning,
  problems: string[],
): void {
  const nameLength = props.namePrefix.length + 1 + TUNING_NAME_SUFFIX;
  if (nameLength > MAX_TUNING_JOB_NAME) {
    problems.push(
      `tuning: a tuning job is named "<namePrefix>-<8 hex digits>", at most ${MAX_TUNING_JOB_NAME} characters; "${props.namePrefix}" makes ${nameLength}: shorten the design id`,
    );
  }
  if (!Number.isInteger(tuning.maxJobs) || tuning.maxJobs < 1) {
    problems.push(`tuning.maxJobs: a whole number of at least 1; got ${tuning.maxJobs}`);
  }
  if (!Number.isInteger(tuning.maxParallelJobs) || tuning.maxParallelJobs < 1) {
    problems.push(`tuning.maxParallelJobs: a whole number of at least 1; got ${tuning.maxParallelJobs}`);
  } else if (tuning.maxParallelJobs > tuning.maxJobs) {
    problems.push(
      `tuning.maxParallelJobs: no more than maxJobs (${tuning.maxJobs}); got ${tuning.maxParallelJobs}`,
    );
  }
  if (!props.metricNames.includes(tuning.objective.metric)) {
    // The objective is read from the log by one of the job's metric definitions.
    // https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-metrics-variables.html
    problems.push(
      `tuning.objective.metric: "${tuning.objective.metric}" is not one of metricNames (${props.metricNames.join(', ')})`,
    );
  }
  const fixed = Object.keys(props.hyperparameters ?? {});
  for (const parameter of tuning.searchSpace.parameters) {
    if (fixed.includes(parameter.name)) {
      // A hyperparameter is either static or tuned, not both.
      // https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-ranges.html
      problems.push(`tuning.searchSpace: "${parameter.name}" is also a fixed hyperparameter of the design`);
    }
  }
  if (props.resources.spot) {
    // The trials of one tuning job share one job definition, hence one checkpoint folder, and the
    // entry point resumes from whatever checkpoint it finds there: trials would resume each other.
    problems.push('tuning: not with spot training, whose trials would share one checkpoint folder');
  }
  const rounds = Math.ceil(tuning.maxJobs / Math.max(1, tuning.maxParallelJobs));
  const hours = (rounds * props.resources.maxRuntime.toSeconds()) / 3600;
  if (hours > props.cadence.toHours({ integral: false })) {
    problems.push(
      `tuning: ${rounds} rounds of ${tuning.maxParallelJobs} trials of up to ${props.resources.maxRuntime.toHours({ integral: false })} h (${hours} h) outlast the ${props.cadence.toHours({ integral: false })} h between runs`,
    );
  }
}
