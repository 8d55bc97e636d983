import type {
  Channel,
  CreateTrainingJobRequest,
  HyperParameterTrainingJobDefinition,
  TrainingInstanceType,
} from '@aws-sdk/client-sagemaker';
import type { GetObjectRequest } from '@aws-sdk/client-s3';
import { ArnFormat, Aws, type Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TRAINING_JOB_LOG_GROUP } from '../../../../../lambda/platform/sagemaker-cleanup/names';
import { acknowledgeActionsWithoutResourceTypes } from '../../../nag/acknowledge-actions-without-resource-types';
import { sdkParameters, type TaskParameters } from '../../workflow/sdk-parameters';
import { ARTIFACT_PREFIXES, CHAMPION_MODEL_POINTER } from '../artifact-layout';
import type { DlcImage } from '../dlc-image';
import type { SageMakerInstanceType } from '../endpoint-hosting';
import { hasLocalInstanceStorage } from '../instance-storage';
import type { SourceBundle } from '../source-bundle';
import { grantSageMakerSyncRule, RUN, type PipelineScope } from './run-state';

export interface TrainingResources {
  readonly instanceType: SageMakerInstanceType;
  /** More than one runs torchrun data parallelism across hosts. */
  readonly instanceCount: number;
  readonly maxRuntime: Duration;
  readonly volumeSizeGb: number;
  /** Managed spot training, resumed from S3 checkpoints when a spot instance is reclaimed. */
  readonly spot: boolean;
}

export interface TrainStepProps {
  readonly artifacts: s3.IBucket;
  readonly key: kms.IKey;
  readonly image: DlcImage;
  /** The model code packed as script mode's `sourcedir.tar.gz`. */
  readonly source: SourceBundle;
  /** Entry point inside the source bundle. */
  readonly entryPoint: string;
  readonly hyperparameters?: Readonly<Record<string, string>>;
  readonly metricNames: readonly string[];
  readonly resources: TrainingResources;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The jobs' execution role; given, it gets the grants below. @default - a new role */
  readonly role?: iam.IRole;
  /**
   * Start each run from the champion's model: when a promotion has been recorded, the job gets a
   * `champion` channel holding the champion's `model.tar.gz` (the entry point reads
   * `SM_CHANNEL_CHAMPION`); before the first promotion it trains from scratch.
   * @default false - every run trains from scratch
   */
  readonly warmStart?: boolean;
}

/**
 * What every training job of the pipeline runs with, whether the pipeline starts it or an
 * automatic model tuning job does: the members `CreateTrainingJob` and
 * `HyperParameterTrainingJobDefinition` share, plus the hyperparameters.
 */
export type TrainingJobDefinition = Pick<
  TaskParameters<HyperParameterTrainingJobDefinition & CreateTrainingJobRequest>,
  | 'RoleArn'
  | 'OutputDataConfig'
  | 'ResourceConfig'
  | 'StoppingCondition'
  | 'EnableManagedSpotTraining'
  | 'EnableInterContainerTrafficEncryption'
  | 'VpcConfig'
> & {
  /** The image, input mode and metric definitions (`metric: <name>=<value>` lines of the log). */
  readonly algorithm: {
    readonly TrainingImage: string;
    readonly TrainingInputMode: 'File';
    readonly MetricDefinitions: readonly { readonly Name: string; readonly Regex: string }[];
  };
  /** Script mode's settings and the design's hyperparameters. */
  readonly hyperParameters: Readonly<Record<string, string>>;
  /** The snapshot's channels, `train` and `validation`. */
  readonly channels: readonly TaskParameters<Channel>[];
};

/**
 * Train: a SageMaker training job in script mode, started by `createTrainingJob.sync`, which waits
 * for it to end. The job runs in the VPC with a role that reads the training channels and writes
 * models and checkpoints, nothing else. With warm starts, the run first looks up the champion's
 * model and hands it to the job as a channel.
 */
export class TrainStep {
  public readonly role: iam.IRole;
  /** The job definition every training job of the pipeline shares (see `TuneStep`). */
  public readonly definition: TrainingJobDefinition;
  private readonly props: TrainStepProps;
  private trainTask?: sfn.CustomState;
  private trainStart?: sfn.IChainable;

  constructor(
    private readonly pipeline: PipelineScope,
    props: TrainStepProps,
  ) {
    const { scope } = pipeline;
    this.props = props;
    const securityGroup = new ec2.SecurityGroup(scope, 'TrainingSecurityGroup', {
      vpc: props.vpc,
      description: 'Training jobs: hosts talk to each other (torchrun) and to VPC endpoints',
    });
    this.role =
      props.role ??
      new iam.Role(scope, 'TrainingRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: 'Training jobs: read the training snapshot, write models and checkpoints',
      });
    grantTrainingJobNeeds(scope, this.role, pipeline.namePrefix, props, securityGroup);
    securityGroup.addIngressRule(securityGroup, ec2.Port.allTcp(), 'torchrun between training hosts');
    this.definition = this.jobDefinition(props, securityGroup);
  }

  /**
   * The Train state (created once): one training job named after the run. With warm starts it is
   * preceded by the champion lookup; `start` is then the lookup.
   */
  public get task(): sfn.CustomState {
    this.trainTask ??= this.pipeline.guard(
      new sfn.CustomState(this.pipeline.scope, 'Train', {
        stateJson: {
          Type: 'Task',
          Comment: 'SageMaker training job in script mode; .sync waits for it to end',
          Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync`,
          Parameters: this.parameters(),
          ResultSelector: {
            'jobName.$': '$.TrainingJobName',
            'modelDataUrl.$': '$.ModelArtifacts.S3ModelArtifacts',
            'billableSeconds.$': '$.BillableTimeInSeconds',
          },
          ResultPath: '$.training',
        },
      }),
    );
    return this.trainTask;
  }

  /** Where a run's training starts: the champion lookup with warm starts, else Train itself. */
  public get start(): sfn.IChainable {
    this.trainStart ??= this.props.warmStart ? this.championLookup(this.task) : this.task;
    return this.trainStart;
  }

  /**
   * FindChampion reads the pointer the last promotion recorded (`champion/model.json`); found, the
   * job's channels are the snapshot's plus `champion`, the S3 key of the champion's
   * `model.tar.gz` as an `S3Prefix` (a prefix that is the whole key selects that one object); not
   * found (no promotion yet), the snapshot's alone.
   */
  private championLookup(train: sfn.CustomState): sfn.IChainable {
    const { scope, guard } = this.pipeline;
    const { artifacts } = this.props;
    const pointerKey = `${ARTIFACT_PREFIXES.champion}${CHAMPION_MODEL_POINTER}`;
    const findChampion = new tasks.CallAwsService(scope, 'FindChampion', {
      comment: "The champion's model, as the last promotion recorded it",
      service: 's3',
      action: 'getObject',
      parameters: sdkParameters<GetObjectRequest>({ Bucket: artifacts.bucketName, Key: pointerKey }),
      iamResources: [artifacts.arnForObjects(pointerKey)],
      resultSelector: { 'model.$': 'States.StringToJson($.Body)' },
      resultPath: RUN.champion,
    });
    const snapshot = this.definition.channels;
    const warmStart = new sfn.Pass(scope, 'WarmStart', {
      comment: "Train from the champion's factors: its model.tar.gz as the champion channel",
      parameters: { channels: [...snapshot, championChannel(`${RUN.champion}.model.modelDataUrl`)] },
      resultPath: '$.inputs',
    });
    const coldStart = new sfn.Pass(scope, 'ColdStart', {
      comment: 'No promotion recorded yet: train from scratch',
      result: sfn.Result.fromObject({ channels: snapshot }),
      resultPath: '$.inputs',
    });
    // Caught before the pipeline's catch-all: a missing pointer is the first run, not a failure.
    // S3 answers NoSuchKey (not AccessDenied) only to a caller that may list the bucket, which
    // `grantStart` grants (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
    findChampion.addCatch(coldStart, { errors: ['S3.NoSuchKeyException'], resultPath: sfn.JsonPath.DISCARD });
    guard(findChampion);
    findChampion.next(warmStart);
    warmStart.next(train);
    coldStart.next(train);
    return sfn.Chain.custom(findChampion, [train], train);
  }

  /** What `createTrainingJob.sync` needs of `principal`: the job, the role it passes, the rule that watches it. */
  public grantStart(principal: iam.IGrantable): void {
    const stack = Stack.of(this.pipeline.scope);
    principal.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
        resources: [
          stack.formatArn({
            service: 'sagemaker',
            resource: 'training-job',
            resourceName: `${this.pipeline.namePrefix}-*`,
          }),
        ],
      }),
    );
    grantSageMakerSyncRule(principal, this.pipeline.scope, 'TrainingJobs');
    this.role.grantPassRole(principal.grantPrincipal);
    if (this.props.warmStart) {
      // Reads the pointer; the bucket-level List lets a missing pointer answer NoSuchKey.
      this.props.artifacts.grantRead(principal, `${ARTIFACT_PREFIXES.champion}${CHAMPION_MODEL_POINTER}`);
    }
  }

  private jobDefinition(props: TrainStepProps, securityGroup: ec2.ISecurityGroup): TrainingJobDefinition {
    const { artifacts, resources } = props;
    const channel = (name: string, prefix: string): TaskParameters<Channel> => ({
      ChannelName: name,
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: artifacts.s3UrlForObject(prefix),
          S3DataDistributionType: 'FullyReplicated',
        },
      },
      ContentType: 'text/csv',
    });
    return {
      RoleArn: this.role.roleArn,
      algorithm: {
        TrainingImage: props.image.imageUri(this.pipeline.scope),
        TrainingInputMode: 'File',
        MetricDefinitions: props.metricNames.map((name) => ({
          Name: name,
          Regex: metricRegex(name),
        })),
      },
      hyperParameters: {
        ...props.hyperparameters,
        sagemaker_program: props.entryPoint,
        sagemaker_submit_directory: props.source.s3Uri,
        sagemaker_region: Aws.REGION,
        sagemaker_container_log_level: '20',
        ...(resources.instanceCount > 1 ? { sagemaker_torch_distributed_enabled: 'true' } : {}),
        // Checkpoints only pay off when a spot instance can be reclaimed; on demand they cost time.
        ...(resources.spot ? {} : { 'checkpoint-dir': '' }),
      },
      channels: [
        channel('train', ARTIFACT_PREFIXES.trainChannel),
        channel('validation', ARTIFACT_PREFIXES.validationChannel),
      ],
      OutputDataConfig: {
        S3OutputPath: artifacts.s3UrlForObject(ARTIFACT_PREFIXES.models),
        KmsKeyId: props.key.keyArn,
      },
      ResourceConfig: {
        InstanceType: resources.instanceType as TrainingInstanceType,
        InstanceCount: resources.instanceCount,
        VolumeSizeInGB: resources.volumeSizeGb,
        // Local NVMe storage is encrypted by the instance's hardware, and SageMaker rejects a key for it.
        ...(hasLocalInstanceStorage(resources.instanceType) ? {} : { VolumeKmsKeyId: props.key.keyArn }),
      },
      StoppingCondition: {
        MaxRuntimeInSeconds: resources.maxRuntime.toSeconds(),
        // Spot jobs may wait for capacity as long again as they run.
        ...(resources.spot ? { MaxWaitTimeInSeconds: resources.maxRuntime.toSeconds() * 2 } : {}),
      },
      EnableManagedSpotTraining: resources.spot,
      EnableInterContainerTrafficEncryption: resources.instanceCount > 1,
      VpcConfig: {
        SecurityGroupIds: [securityGroup.securityGroupId],
        Subnets: props.vpc.selectSubnets(props.subnets).subnetIds,
      },
    };
  }

  private parameters(): Record<string, unknown> {
    const { algorithm, hyperParameters, channels, ...shared } = this.definition;
    const { artifacts, resources } = this.props;
    return sdkParameters<CreateTrainingJobRequest>({
      'TrainingJobName.$': RUN.name,
      RoleArn: shared.RoleArn,
      AlgorithmSpecification: algorithm,
      HyperParameters: hyperParameters,
      ...(this.props.warmStart ? { 'InputDataConfig.$': RUN.channels } : { InputDataConfig: channels }),
      OutputDataConfig: shared.OutputDataConfig,
      ResourceConfig: shared.ResourceConfig,
      StoppingCondition: shared.StoppingCondition,
      EnableManagedSpotTraining: shared.EnableManagedSpotTraining,
      ...(resources.spot
        ? {
            CheckpointConfig: {
              'S3Uri.$': `States.Format('${artifacts.s3UrlForObject(ARTIFACT_PREFIXES.checkpoints)}{}/', ${RUN.name})`,
            },
          }
        : {}),
      EnableInterContainerTrafficEncryption: shared.EnableInterContainerTrafficEncryption,
      VpcConfig: shared.VpcConfig,
    });
  }
}

/** How SageMaker reads metric `name` from the log, where the entry point prints `metric: <name>=<value>`. */
export function metricRegex(name: string): string {
  return `metric: ${name}=([-+0-9.eE]+)`;
}

/**
 * The `champion` channel: the champion's `model.tar.gz` at the S3 URI under `uriPath`. In File mode
 * the object is copied as it is; `CompressionType` only applies to Pipe mode and stays unset
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Channel.html).
 */
function championChannel(uriPath: string): TaskParameters<Channel> {
  return {
    ChannelName: 'champion',
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix',
        'S3Uri.$': uriPath,
        S3DataDistributionType: 'FullyReplicated',
      },
    },
    ContentType: 'application/gzip',
  };
}

/** What a training job's execution role needs: its inputs, its outputs, logs, metrics, network interfaces. */
function grantTrainingJobNeeds(
  scope: Construct,
  role: iam.IRole,
  namePrefix: string,
  props: TrainStepProps,
  securityGroup: ec2.ISecurityGroup,
): void {
  const stack = Stack.of(scope);
  props.artifacts.grantRead(role, 'training/*');
  props.artifacts.grantReadWrite(role, `${ARTIFACT_PREFIXES.models}*`);
  props.artifacts.grantReadWrite(role, `${ARTIFACT_PREFIXES.checkpoints}*`);
  props.key.grantEncryptDecrypt(role);
  props.source.grantRead(role);
  props.image.grantPull(scope, role);
  const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  // Every job logs to the account-wide group, one stream per host named after the job.
  const logGroupArn = stack.formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: TRAINING_JOB_LOG_GROUP,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  // A log group's ARN ends in `:*` in policies for every action but tagging
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
  allow(['logs:CreateLogGroup', 'logs:DescribeLogStreams'], [`${logGroupArn}:*`]);
  allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [`${logGroupArn}:log-stream:${namePrefix}-*`]);
  allow(['cloudwatch:PutMetricData'], ['*'], {
    StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*'] },
  });
  // Network interfaces for a job inside the VPC: SageMaker creates them with this role in our
  // subnets and security group ("Give SageMaker training jobs access to resources in your VPC",
  // https://docs.aws.amazon.com/sagemaker/latest/dg/train-vpc.html). Their ids are not known
  // before the job runs; the Describe actions support no resource-level permission.
  const ec2Arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ec2', resource, resourceName });
  const networkInterfaces = ec2Arn('network-interface', '*');
  allow(
    ['ec2:CreateNetworkInterface'],
    [
      networkInterfaces,
      ec2Arn('security-group', securityGroup.securityGroupId),
      ...props.vpc.selectSubnets(props.subnets).subnetIds.map((id) => ec2Arn('subnet', id)),
    ],
  );
  allow(
    [
      'ec2:CreateNetworkInterfacePermission',
      'ec2:DeleteNetworkInterface',
      'ec2:DeleteNetworkInterfacePermission',
    ],
    [networkInterfaces],
  );
  allow(
    [
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeVpcs',
      'ec2:DescribeDhcpOptions',
      'ec2:DescribeSubnets',
      'ec2:DescribeSecurityGroups',
    ],
    ['*'],
  );
  acknowledgeActionsWithoutResourceTypes(role, {
    actions: [
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeVpcs',
      'ec2:DescribeDhcpOptions',
      'ec2:DescribeSubnets',
      'ec2:DescribeSecurityGroups',
      'ecr:GetAuthorizationToken',
      'cloudwatch:PutMetricData',
    ],
    purpose:
      "SageMaker reads the job's network before creating its interfaces in the VPC, signs in to ECR to pull the training image, and the job publishes metrics, limited to the SageMaker namespaces by a condition",
  });
}
