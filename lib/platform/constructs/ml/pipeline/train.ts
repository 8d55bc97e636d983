import type { Channel, CreateTrainingJobRequest, TrainingInstanceType } from '@aws-sdk/client-sagemaker';
import { ArnFormat, Aws, type Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { TRAINING_JOB_LOG_GROUP } from '../../../../../lambda/platform/sagemaker-cleanup/names';
import { acknowledgeActionsWithoutResourceTypes } from '../../../nag/acknowledge-actions-without-resource-types';
import { sdkParameters, type TaskParameters } from '../../workflow/sdk-parameters';
import { ARTIFACT_PREFIXES } from '../artifact-layout';
import type { DlcImage } from '../dlc-image';
import type { SageMakerInstanceType } from '../endpoint-hosting';
import { hasLocalInstanceStorage } from '../instance-storage';
import type { SourceBundle } from '../source-bundle';
import { RUN, type PipelineScope } from './run-state';

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
}

/**
 * Train: a SageMaker training job in script mode, started by `createTrainingJob.sync`, which waits
 * for it to end. The job runs in the VPC with a role that reads the training channels and writes
 * models and checkpoints, nothing else.
 */
export class TrainStep {
  public readonly task: sfn.CustomState;
  public readonly role: iam.IRole;

  constructor(
    private readonly pipeline: PipelineScope,
    props: TrainStepProps,
  ) {
    const { scope } = pipeline;
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

    this.task = pipeline.guard(
      new sfn.CustomState(scope, 'Train', {
        stateJson: {
          Type: 'Task',
          Comment: 'SageMaker training job in script mode; .sync waits for it to end',
          Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync`,
          Parameters: this.parameters(props, securityGroup),
          ResultSelector: {
            'modelDataUrl.$': '$.ModelArtifacts.S3ModelArtifacts',
            'billableSeconds.$': '$.BillableTimeInSeconds',
          },
          ResultPath: '$.training',
        },
      }),
    );
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
    principal.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule',
          }),
        ],
      }),
    );
    this.role.grantPassRole(principal.grantPrincipal);
  }

  private parameters(props: TrainStepProps, securityGroup: ec2.ISecurityGroup): Record<string, unknown> {
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
    return sdkParameters<CreateTrainingJobRequest>({
      'TrainingJobName.$': RUN.name,
      RoleArn: this.role.roleArn,
      AlgorithmSpecification: {
        TrainingImage: props.image.imageUri(this.pipeline.scope),
        TrainingInputMode: 'File',
        MetricDefinitions: props.metricNames.map((name) => ({
          Name: name,
          Regex: `metric: ${name}=([-+0-9.eE]+)`,
        })),
      },
      HyperParameters: {
        ...props.hyperparameters,
        sagemaker_program: props.entryPoint,
        sagemaker_submit_directory: props.source.s3Uri,
        sagemaker_region: Aws.REGION,
        sagemaker_container_log_level: '20',
        ...(resources.instanceCount > 1 ? { sagemaker_torch_distributed_enabled: 'true' } : {}),
        // Checkpoints only pay off when a spot instance can be reclaimed; on demand they cost time.
        ...(resources.spot ? {} : { 'checkpoint-dir': '' }),
      },
      InputDataConfig: [
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
      ...(resources.spot
        ? {
            CheckpointConfig: {
              'S3Uri.$': `States.Format('${artifacts.s3UrlForObject(ARTIFACT_PREFIXES.checkpoints)}{}/', ${RUN.name})`,
            },
          }
        : {}),
      EnableInterContainerTrafficEncryption: resources.instanceCount > 1,
      VpcConfig: {
        SecurityGroupIds: [securityGroup.securityGroupId],
        Subnets: props.vpc.selectSubnets(props.subnets).subnetIds,
      },
    });
  }
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
