import type {
  CreateHyperParameterTuningJobRequest,
  DescribeTrainingJobRequest,
} from '@aws-sdk/client-sagemaker';
import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { sdkParameters } from '../../workflow/sdk-parameters';
import { grantSageMakerSyncRule, RUN, runArn, type PipelineScope } from './run-state';
import { parameterRanges, type SearchSpace } from './search-space';
import type { TrainStep } from './train';

/** What the tuning job searches, and how hard. */
export interface TuneStepProps {
  /** The plain train step: its job definition is every trial's. */
  readonly train: TrainStep;
  readonly searchSpace: SearchSpace;
  /** The gate's metric and direction: the trial with the best of it is the candidate. */
  readonly objective: { readonly metric: string; readonly type: 'Maximize' | 'Minimize' };
  readonly maxJobs: number;
  readonly maxParallelJobs: number;
  readonly strategy: 'Bayesian' | 'Random';
  /** The longest one trial may run (the job definition's own limit). */
  readonly maxRuntime: Duration;
}

/** The longest name of a hyperparameter tuning job, and its characters. */
export const MAX_TUNING_JOB_NAME = 32;
/** The part of the run's UUID a tuning job's name carries: its first group, 8 hex digits. */
export const TUNING_NAME_SUFFIX = 8;

/**
 * Tune: an automatic model tuning job, started by `createHyperParameterTuningJob.sync`, which
 * waits for it to end and returns what DescribeHyperParameterTuningJob returns
 * (https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html). Every trial runs
 * the plain step's job definition with the script's own search off (`tune=false`) and the search
 * space's values; the best trial, read back with DescribeTrainingJob, becomes the run's
 * candidate exactly as the plain step's job would.
 *
 * aws-cdk-lib has no task construct for this integration, so it is a `CustomState` whose
 * parameters are typed by the SDK's request (`sdkParameters`) and validated against the API model
 * by the tests; DescribeTrainingJob, an AWS SDK integration, is a typed `CallAwsService`.
 */
export class TuneStep {
  /** NameTuningJob, the first state. */
  public readonly start: sfn.Pass;
  /** DescribeBestTrainingJob, the last state, which leaves the candidate under `$.training`. */
  public readonly end: tasks.CallAwsService;
  /** The longest a tuning job may run: every round of parallel trials at its longest. */
  public readonly maxRuntime: Duration;

  constructor(
    private readonly pipeline: PipelineScope,
    props: TuneStepProps,
  ) {
    const { scope, namePrefix, guard } = pipeline;
    const rounds = Math.ceil(props.maxJobs / props.maxParallelJobs);
    this.maxRuntime = Duration.seconds(props.maxRuntime.toSeconds() * rounds);
    // Tuning job names are at most 32 characters and name the trials' training jobs
    // (`<name>-<nnn>-<hex>`), so they start with the run prefix, which scopes the pipeline's IAM:
    // the prefix and the first UUID group of the run's name (its index is the prefix's dash count + 1).
    // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateHyperParameterTuningJob.html
    const uuidGroup = namePrefix.split('-').length;
    this.start = new sfn.Pass(scope, 'NameTuningJob', {
      comment: 'Tuning job names are at most 32 characters: the prefix and 8 hex digits of the run UUID',
      parameters: {
        'name.$': `States.Format('${namePrefix}-{}', States.ArrayGetItem(States.StringSplit(${RUN.name}, '-'), ${uuidGroup}))`,
      },
      resultPath: '$.tuning',
    });
    const { algorithm, hyperParameters, channels, ...shared } = props.train.definition;
    const tune = guard(
      new sfn.CustomState(scope, 'Tune', {
        stateJson: {
          Type: 'Task',
          Comment: 'SageMaker automatic model tuning over the search space; .sync waits for it to end',
          Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createHyperParameterTuningJob.sync`,
          Parameters: sdkParameters<CreateHyperParameterTuningJobRequest>({
            'HyperParameterTuningJobName.$': '$.tuning.name',
            HyperParameterTuningJobConfig: {
              Strategy: props.strategy,
              HyperParameterTuningJobObjective: {
                Type: props.objective.type,
                MetricName: props.objective.metric,
              },
              ResourceLimits: {
                MaxNumberOfTrainingJobs: props.maxJobs,
                MaxParallelTrainingJobs: props.maxParallelJobs,
                MaxRuntimeInSeconds: this.maxRuntime.toSeconds(),
              },
              ParameterRanges: parameterRanges(props.searchSpace),
              TrainingJobEarlyStoppingType: 'Off',
            },
            TrainingJobDefinition: {
              // The script's own search is off: SageMaker chooses the values.
              StaticHyperParameters: { ...hyperParameters, tune: 'false' },
              AlgorithmSpecification: algorithm,
              RoleArn: shared.RoleArn,
              // Trials train from scratch: a champion's factors would favour its own hyperparameters.
              InputDataConfig: channels,
              OutputDataConfig: shared.OutputDataConfig,
              ResourceConfig: shared.ResourceConfig,
              StoppingCondition: shared.StoppingCondition,
              EnableManagedSpotTraining: shared.EnableManagedSpotTraining,
              EnableInterContainerTrafficEncryption: shared.EnableInterContainerTrafficEncryption,
              VpcConfig: shared.VpcConfig,
            },
          }),
          ResultSelector: {
            'trainingJob.$': '$.BestTrainingJob.TrainingJobName',
            'hyperParameters.$': '$.BestTrainingJob.TunedHyperParameters',
          },
          ResultPath: '$.tuning.best',
        },
      }),
    );
    // The tuning job's description names the best trial but not its model: read it as Train would.
    this.end = guard(
      new tasks.CallAwsService(scope, 'DescribeBestTrainingJob', {
        comment: "The best trial's model becomes the candidate",
        service: 'sagemaker',
        action: 'describeTrainingJob',
        parameters: sdkParameters<DescribeTrainingJobRequest>({
          'TrainingJobName.$': '$.tuning.best.trainingJob',
        }),
        iamResources: [runArn(scope, namePrefix, 'training-job')],
        resultSelector: {
          'jobName.$': '$.TrainingJobName',
          'modelDataUrl.$': '$.ModelArtifacts.S3ModelArtifacts',
          'billableSeconds.$': '$.BillableTimeInSeconds',
        },
        resultPath: '$.training',
      }),
    );
    this.start.next(tune).next(this.end);
  }

  /**
   * What `createHyperParameterTuningJob.sync` needs of `principal`: the tuning job, the rule that
   * watches it, and the training role it passes
   * (https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html, IAM policies).
   */
  public grantStart(principal: iam.IGrantable, trainingRole: iam.IRole): void {
    principal.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateHyperParameterTuningJob',
          'sagemaker:DescribeHyperParameterTuningJob',
          'sagemaker:StopHyperParameterTuningJob',
        ],
        resources: [runArn(this.pipeline.scope, this.pipeline.namePrefix, 'hyper-parameter-tuning-job')],
      }),
    );
    grantSageMakerSyncRule(principal, this.pipeline.scope, 'TuningJobs');
    trainingRole.grantPassRole(principal.grantPrincipal);
  }
}
