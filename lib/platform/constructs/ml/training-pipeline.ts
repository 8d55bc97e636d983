import type {
  Channel,
  CreateEndpointConfigInput,
  CreateModelInput,
  CreateModelPackageInput,
  CreateTrainingJobRequest,
  DescribeEndpointConfigInput,
  DescribeEndpointInput,
  EndpointStatus,
  ProductionVariant,
  ProductionVariantInstanceType,
  TrainingInstanceType,
  UpdateEndpointInput,
} from '@aws-sdk/client-sagemaker';
import type { PutObjectRequest } from '@aws-sdk/client-s3';
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES, TRAINING_OUTPUT_FILES } from './artifact-layout';
import type { DlcImage } from './dlc-image';
import { hasLocalInstanceStorage } from './instance-storage';
import {
  inferenceEnvironment,
  networkIsolation,
  NOT_RETAINED_ON_UPDATE,
  type EndpointHosting,
  type ModelEndpoint,
  type SageMakerInstanceType,
} from './model-endpoint';
import type { SourceBundle } from './source-bundle';
import { CustomResourceHandler } from '../compute/custom-resource-handler';
import { stackUniqueSuffix } from '../data/stack-unique-suffix';
import { TRAINING_JOB_LOG_GROUP } from '../../../../lambda/platform/sagemaker-cleanup/names';
import { FailureHandling } from '../workflow/failure-handling';
import { createPipelineStateMachine } from '../workflow/pipeline-state-machine';
import { sdkParameters, type TaskParameters } from '../workflow/sdk-parameters';

export interface TrainingResources {
  readonly instanceType: SageMakerInstanceType;
  /** More than one runs torchrun data parallelism across hosts. */
  readonly instanceCount: number;
  readonly maxRuntime: Duration;
  readonly volumeSizeGb: number;
  /** Managed spot training, resumed from S3 checkpoints when a spot instance is reclaimed. */
  readonly spot: boolean;
}

export interface EvaluationGatePolicy {
  /** Metric line of the training script that decides, e.g. `ndcg_at_10`. */
  readonly metric: string;
  /** Metric line of the popularity baseline, e.g. `popularity_ndcg_at_10`. */
  readonly baselineMetric: string;
  readonly minImprovementOverChampion: number;
  readonly minImprovementOverBaseline: number;
}

export interface TrainingPipelineProps {
  /**
   * Starts the name of every training job, model and endpoint config a run creates
   * (`<prefix>-<uuid>`), and scopes the pipeline's IAM to them: derived from the design, so two
   * designs in one account never touch each other's. Lower-case letters, digits and `-`, at most
   * 26 characters (SageMaker names are at most 63).
   */
  readonly namePrefix: string;
  readonly artifacts: s3.IBucket;
  readonly key: kms.IKey;
  readonly trainingImage: DlcImage;
  readonly inferenceImage: DlcImage;
  /** `sagemaker/` packed as script mode's `sourcedir.tar.gz`. */
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
  readonly endpoint: ModelEndpoint;
  readonly hosting: EndpointHosting;
  /** The gate function (`lambda/evaluation-gate/`). */
  readonly gate: lambda.IFunction;
  /** The cache loader function (`lambda/cache-loader/`). */
  readonly cacheLoader: lambda.IFunction;
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
   * The handler that deletes what runs created (`lambda/sagemaker-cleanup`), with permissions for
   * names starting with `namePrefix`; required when `removalPolicy` is `DESTROY`.
   * @default - none: nothing is cleaned up, which only a retaining removal policy allows
   */
  readonly runCleanup?: CustomResourceHandler;
}

/** SageMaker names are at most 63 characters; a run appends `-` and a 36-character UUID. */
const MAX_NAME_PREFIX = 63 - 37;

/**
 * The training pipeline, a Step Functions state machine: train on a GPU (script mode, `.sync`), gate
 * the candidate against the champion and a popularity baseline, register it, create its model and
 * endpoint config, update the endpoint and wait until it serves, load its batch recommendations
 * into the cache, record the new champion, notify. Every task retries throttling with backoff and
 * routes any failure to one handler that records why and notifies.
 *
 * A promoted candidate becomes the champion variant; the previous champion keeps serving the
 * challenger share, so every rollout is also an A/B test of new against old.
 */
export class TrainingPipeline extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly trainingRole: iam.Role;
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  public readonly schedule: scheduler.Schedule;
  public readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    validateProps(props);
    const stack = Stack.of(this);
    const { artifacts, endpoint, namePrefix } = props;
    this.namePrefix = namePrefix;
    const runArn = (resource: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName: `${namePrefix}-*` });

    const trainingSecurityGroup = new ec2.SecurityGroup(this, 'TrainingSecurityGroup', {
      vpc: props.vpc,
      description: 'Training jobs: hosts talk to each other (torchrun) and to VPC endpoints',
    });
    this.trainingRole = this.createTrainingRole(props, trainingSecurityGroup);
    trainingSecurityGroup.addIngressRule(
      trainingSecurityGroup,
      ec2.Port.allTcp(),
      'torchrun between training hosts',
    );

    // The group's name is required, and a retained group outlives its stack: the suffix, unique per
    // stack creation, keeps a redeploy after destroy from colliding with the group left behind.
    const packageGroupName = `${namePrefix}-models-${stackUniqueSuffix(this)}`;
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: packageGroupName,
      modelPackageGroupDescription: 'Recommendation models that passed the evaluation gate',
    });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.modelPackageGroup.applyRemovalPolicy(removalPolicy);
    if (removalPolicy === RemovalPolicy.DESTROY)
      this.addCleanup(props.runCleanup!, namePrefix, packageGroupName);

    // Models created by the pipeline read the trained artefacts.
    artifacts.grantRead(endpoint.modelRole, `${ARTIFACT_PREFIXES.models}*`);
    props.key.grantDecrypt(endpoint.modelRole);

    const jobName = '$.run.jobName';
    const outputKey = `States.Format('${ARTIFACT_PREFIXES.models}{}/output/output.tar.gz', ${jobName})`;
    const inferenceImageUri = props.inferenceImage.imageUri(this);

    const failures = new FailureHandling(this, 'Failures', {
      topic: props.notifications,
      subject: 'Recommender training pipeline failed',
    });
    const guard = <T extends sfn.TaskStateBase | sfn.CustomState>(task: T): T => failures.guard(task);

    // --- states
    const nameRun = new sfn.Pass(this, 'NameRun', {
      comment: 'One name for the job, model, endpoint config and package of this run',
      parameters: { 'jobName.$': `States.Format('${namePrefix}-{}', States.UUID())` },
      resultPath: '$.run',
    });

    const train = guard(
      new sfn.CustomState(this, 'Train', {
        stateJson: {
          Type: 'Task',
          Comment: 'SageMaker training job in script mode; .sync waits for it to end',
          Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync`,
          Parameters: this.trainingJobParameters(props, trainingSecurityGroup),
          ResultSelector: {
            'modelDataUrl.$': '$.ModelArtifacts.S3ModelArtifacts',
            'billableSeconds.$': '$.BillableTimeInSeconds',
          },
          ResultPath: '$.training',
        },
      }),
    );

    const evaluate = guard(
      new tasks.LambdaInvoke(this, 'Evaluate', {
        comment: 'The candidate must beat the champion and the popularity baseline',
        lambdaFunction: props.gate,
        payload: sfn.TaskInput.fromObject({
          bucket: artifacts.bucketName,
          'trainingJob.$': jobName,
          'candidateOutputKey.$': outputKey,
          championMetricsKey: `${ARTIFACT_PREFIXES.champion}${TRAINING_OUTPUT_FILES.metrics}`,
        }),
        payloadResponseOnly: true,
        resultPath: '$.gate',
      }),
    );

    const register = guard(
      new tasks.CallAwsService(this, 'Register', {
        comment: 'Model Registry: the approved package of this run',
        service: 'sagemaker',
        action: 'createModelPackage',
        parameters: sdkParameters<CreateModelPackageInput>({
          ModelPackageGroupName: packageGroupName,
          'ModelPackageDescription.$': "States.Format('Training job {}', $.run.jobName)",
          ModelApprovalStatus: 'Approved',
          InferenceSpecification: {
            Containers: [{ Image: inferenceImageUri, 'ModelDataUrl.$': '$.training.modelDataUrl' }],
            SupportedContentTypes: ['application/json'],
            SupportedResponseMIMETypes: ['application/json'],
          },
          // Built by the gate within the registry's character set and lengths: free text such as the
          // gate's reasons would be rejected by CreateModelPackage's pattern.
          'CustomerMetadataProperties.$': '$.gate.registryMetadata',
        }),
        iamResources: [
          this.modelPackageGroup.attrModelPackageGroupArn,
          stack.formatArn({
            service: 'sagemaker',
            resource: 'model-package',
            resourceName: `${packageGroupName}/*`,
          }),
        ],
        resultSelector: { 'arn.$': '$.ModelPackageArn' },
        resultPath: '$.modelPackage',
      }),
    );

    const createModel = guard(
      new tasks.CallAwsService(this, 'CreateModel', {
        service: 'sagemaker',
        action: 'createModel',
        parameters: sdkParameters<CreateModelInput>({
          'ModelName.$': jobName,
          ExecutionRoleArn: endpoint.modelRole.roleArn,
          EnableNetworkIsolation: networkIsolation(props.hosting),
          PrimaryContainer: {
            Image: inferenceImageUri,
            'ModelDataUrl.$': '$.training.modelDataUrl',
            Environment: inferenceEnvironment(),
          },
        }),
        iamResources: [runArn('model')],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );

    const readCurrentChampionModel = (): sfn.IChainable => {
      const readCurrentConfig = guard(
        new tasks.CallAwsService(this, 'DescribeEndpoint', {
          comment: 'Which model serves the champion variant now: it becomes the challenger',
          service: 'sagemaker',
          action: 'describeEndpoint',
          parameters: sdkParameters<DescribeEndpointInput>({ EndpointName: endpoint.endpointName }),
          iamResources: [endpoint.endpointArn],
          resultSelector: { 'configName.$': '$.EndpointConfigName' },
          resultPath: '$.current',
        }),
      );
      const readCurrentChampion = guard(
        new tasks.CallAwsService(this, 'DescribeEndpointConfig', {
          service: 'sagemaker',
          action: 'describeEndpointConfig',
          parameters: sdkParameters<DescribeEndpointConfigInput>({
            'EndpointConfigName.$': '$.current.configName',
          }),
          iamResources: [
            stack.formatArn({ service: 'sagemaker', resource: 'endpoint-config', resourceName: '*' }),
          ],
          // Variants are created champion first.
          resultSelector: { 'championModel.$': '$.ProductionVariants[0].ModelName' },
          resultPath: '$.current.variants',
        }),
      );
      return readCurrentConfig.next(readCurrentChampion);
    };

    const createEndpointConfig = guard(
      new tasks.CallAwsService(this, 'CreateEndpointConfig', {
        service: 'sagemaker',
        action: 'createEndpointConfig',
        parameters: sdkParameters<CreateEndpointConfigInput>({
          'EndpointConfigName.$': jobName,
          ProductionVariants: endpoint.variants.map((variant, index) =>
            apiProductionVariant(
              variant.name,
              variant.weight,
              index === 0 ? jobName : '$.current.variants.championModel',
              props.hosting,
            ),
          ),
          // Every config the pipeline creates captures as the first one did (instances only).
          DataCaptureConfig: endpoint.dataCaptureConfig,
        }),
        iamResources: [runArn('endpoint-config')],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );

    const updateEndpoint = guard(
      new tasks.CallAwsService(this, 'UpdateEndpoint', {
        comment: 'Returns at once; the loop below waits for the deployment to finish',
        service: 'sagemaker',
        action: 'updateEndpoint',
        parameters: sdkParameters<UpdateEndpointInput>({
          EndpointName: endpoint.endpointName,
          'EndpointConfigName.$': jobName,
          DeploymentConfig: endpoint.deploymentConfig,
          ...(props.hosting.kind === 'instances'
            ? {
                // Without it, every rollout resets each variant to the config's initial instance count
                // and drops what auto-scaling added ("To retain the variant properties of an endpoint
                // when updating it, set RetainAllVariantProperties to true",
                // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html).
                // Weights and data capture still come from the new config.
                RetainAllVariantProperties: true,
                ExcludeRetainedVariantProperties: NOT_RETAINED_ON_UPDATE,
              }
            : {}),
        }),
        // UpdateEndpoint is granted by endpoint.grantDeploy, with what guardrails need.
        iamResources: [endpoint.endpointArn],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );

    const waitForDeployment = new sfn.Wait(this, 'WaitForDeployment', {
      time: sfn.WaitTime.duration(Duration.minutes(1)),
    });
    const pollEndpoint = guard(
      new tasks.CallAwsService(this, 'PollEndpoint', {
        service: 'sagemaker',
        action: 'describeEndpoint',
        parameters: sdkParameters<DescribeEndpointInput>({ EndpointName: endpoint.endpointName }),
        iamResources: [endpoint.endpointArn],
        resultSelector: { 'status.$': '$.EndpointStatus', 'configName.$': '$.EndpointConfigName' },
        resultPath: '$.deployment',
      }),
    );
    const rolledBack = failures.failWith(
      'RolledBack',
      'DeploymentRolledBack',
      "States.Format('Endpoint serves {} instead of {}: a rollback alarm fired', $.deployment.configName, $.run.jobName)",
    );
    const deploymentFailed = failures.failWith(
      'DeploymentFailed',
      'DeploymentFailed',
      "States.Format('Endpoint status {}', $.deployment.status)",
    );

    const loadCache = guard(
      new tasks.LambdaInvoke(this, 'LoadCache', {
        comment: 'Batch recommendations into the cache under a new version, then the pointer swap',
        lambdaFunction: props.cacheLoader,
        payload: sfn.TaskInput.fromObject({
          bucket: artifacts.bucketName,
          'archiveKey.$': outputKey,
          recommendationsMember: TRAINING_OUTPUT_FILES.recommendations,
          popularityMember: TRAINING_OUTPUT_FILES.popularity,
          variant: endpoint.variants[0].name,
        }),
        payloadResponseOnly: true,
        resultPath: '$.cacheLoad',
      }),
    );

    const recordChampion = guard(
      new tasks.CallAwsService(this, 'RecordChampion', {
        comment: 'The next candidate has to beat these metrics',
        service: 's3',
        action: 'putObject',
        parameters: sdkParameters<PutObjectRequest>({
          Bucket: artifacts.bucketName,
          Key: `${ARTIFACT_PREFIXES.champion}${TRAINING_OUTPUT_FILES.metrics}`,
          'Body.$': 'States.JsonToString($.gate.candidateMetrics)',
          ContentType: 'application/json',
        }),
        iamResources: [artifacts.arnForObjects(`${ARTIFACT_PREFIXES.champion}*`)],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );

    const notifyPromoted = guard(
      new tasks.SnsPublish(this, 'NotifyPromoted', {
        topic: props.notifications,
        subject: 'Recommender model promoted',
        message: sfn.TaskInput.fromObject({
          'trainingJob.$': jobName,
          'gate.$': '$.gate.reasons',
          'modelPackage.$': '$.modelPackage.arn',
          'cacheLoad.$': '$.cacheLoad',
        }),
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const notifyRejected = guard(
      new tasks.SnsPublish(this, 'NotifyRejected', {
        topic: props.notifications,
        subject: 'Recommender candidate rejected by the evaluation gate',
        message: sfn.TaskInput.fromObject({ 'trainingJob.$': jobName, 'reasons.$': '$.gate.reasons' }),
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const invalidMetrics = failures.failWith(
      'InvalidMetrics',
      'InvalidMetrics',
      'States.JsonToString($.gate.reasons)',
    );

    const definition = nameRun
      .next(train)
      .next(evaluate)
      .next(
        new sfn.Choice(this, 'GateDecision')
          .when(
            sfn.Condition.stringEquals('$.gate.decision', 'promote'),
            register
              .next(createModel)
              .next(
                // With one variant there is no challenger to keep.
                endpoint.variants.length > 1
                  ? sfn.Chain.start(readCurrentChampionModel()).next(createEndpointConfig)
                  : createEndpointConfig,
              )
              .next(updateEndpoint)
              .next(waitForDeployment)
              .next(pollEndpoint)
              .next(
                new sfn.Choice(this, 'DeploymentStatus')
                  .when(
                    sfn.Condition.and(
                      sfn.Condition.stringEquals('$.deployment.status', 'InService'),
                      sfn.Condition.stringEqualsJsonPath('$.deployment.configName', jobName),
                    ),
                    loadCache
                      .next(recordChampion)
                      .next(notifyPromoted)
                      .next(new sfn.Succeed(this, 'Promoted')),
                  )
                  .when(sfn.Condition.stringEquals('$.deployment.status', 'InService'), rolledBack)
                  .when(
                    sfn.Condition.or(
                      ...TERMINAL_ENDPOINT_FAILURES.map((status) =>
                        sfn.Condition.stringEquals('$.deployment.status', status),
                      ),
                    ),
                    deploymentFailed,
                  )
                  .otherwise(waitForDeployment),
              ),
          )
          .when(
            sfn.Condition.stringEquals('$.gate.decision', 'reject'),
            notifyRejected.next(
              new sfn.Succeed(this, 'NotPromoted', { comment: 'The champion keeps serving' }),
            ),
          )
          .otherwise(invalidMetrics),
      );

    ({ stateMachine: this.stateMachine, schedule: this.schedule } = createPipelineStateMachine(this, {
      definition,
      timeout: props.resources.maxRuntime.plus(Duration.hours(3)),
      logExecutionData: true,
      schedule: scheduler.ScheduleExpression.rate(props.cadence),
      scheduleDescription: 'Retrains the recommender on the cadence of the requirements',
      scheduleEnabled: props.scheduleEnabled,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    }));
    this.stateMachine.node.addDependency(this.modelPackageGroup);
    this.grantTrainingJob(this.stateMachine.role);
    endpoint.modelRole.grantPassRole(this.stateMachine.role);
    endpoint.grantDeploy(this.stateMachine.role, [runArn('endpoint-config')]);
    // RecordChampion writes to the SSE-KMS artefacts bucket, and the notifications go to a topic
    // encrypted with the same key: both need the data key from KMS.
    props.key.grant(this.stateMachine.role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  /**
   * On destroy, before the group goes, deletes its package versions (SageMaker refuses to delete a
   * group that holds any) and the runs' training log streams, which live in the account-wide
   * `/aws/sagemaker/TrainingJobs` group that no stack owns.
   */
  private addCleanup(cleanup: CustomResourceHandler, namePrefix: string, packageGroupName: string): void {
    const resource = cleanup.addResource(this, 'RunCleanup', 'SageMakerRunCleanup', {
      NamePrefix: namePrefix,
      ModelPackageGroupName: packageGroupName,
      ModelsAndEndpointConfigs: 'false',
      TrainingLogStreams: 'true',
    });
    // Created after the group, so deleted before it.
    resource.node.addDependency(this.modelPackageGroup);
  }

  private trainingJobParameters(
    props: TrainingPipelineProps,
    securityGroup: ec2.SecurityGroup,
  ): Record<string, unknown> {
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
      'TrainingJobName.$': '$.run.jobName',
      RoleArn: this.trainingRole.roleArn,
      AlgorithmSpecification: {
        TrainingImage: props.trainingImage.imageUri(this),
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
              'S3Uri.$': `States.Format('${artifacts.s3UrlForObject(ARTIFACT_PREFIXES.checkpoints)}{}/', $.run.jobName)`,
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

  /** The execution role of training jobs: reads its inputs, writes its outputs, nothing else. */
  private createTrainingRole(props: TrainingPipelineProps, securityGroup: ec2.ISecurityGroup): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Recommender training jobs: read the snapshot, write models and checkpoints',
    });
    props.artifacts.grantRead(role, 'training/*');
    props.artifacts.grantReadWrite(role, `${ARTIFACT_PREFIXES.models}*`);
    props.artifacts.grantReadWrite(role, `${ARTIFACT_PREFIXES.checkpoints}*`);
    props.key.grantEncryptDecrypt(role);
    props.source.grantRead(role);
    props.trainingImage.grantPull(this, role);
    // Every job logs to the account-wide group, one stream per host named after the job.
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: TRAINING_JOB_LOG_GROUP,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:DescribeLogStreams'],
        // A log group's ARN ends in `:*` in policies for every action but tagging
        // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
        resources: [`${logGroupArn}:*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroupArn}:log-stream:${props.namePrefix}-*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*'] } },
      }),
    );
    // Network interfaces for a job inside the VPC: SageMaker creates them with this role in our
    // subnets and security group ("Give SageMaker training jobs access to resources in your VPC",
    // https://docs.aws.amazon.com/sagemaker/latest/dg/train-vpc.html). Their ids are not known
    // before the job runs; the Describe actions support no resource-level permission.
    const ec2Arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName });
    const networkInterfaces = ec2Arn('network-interface', '*');
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          networkInterfaces,
          ec2Arn('security-group', securityGroup.securityGroupId),
          ...props.vpc.selectSubnets(props.subnets).subnetIds.map((id) => ec2Arn('subnet', id)),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
        ],
        resources: [networkInterfaces],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'EC2 Describe actions, ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited by a namespace condition) take no resource ARN.',
    });
    return role;
  }

  /** What `createTrainingJob.sync` needs: the job, the role it passes, and the rule that watches it. */
  private grantTrainingJob(role: iam.IRole): void {
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(
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
            resourceName: `${this.namePrefix}-*`,
          }),
        ],
      }),
    );
    role.addToPrincipalPolicy(
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
    this.trainingRole.grantPassRole(role);
  }
}

/**
 * Endpoint states a deployment does not come back from by itself: the poll loop fails the run on them
 * instead of waiting until the execution times out. `UpdateRollbackFailed`: "the rollback to the
 * previous configuration failed" (DescribeEndpoint `EndpointStatus`,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html).
 */
export const TERMINAL_ENDPOINT_FAILURES: readonly EndpointStatus[] = [
  'Failed',
  'OutOfService',
  'UpdateRollbackFailed',
  'Deleting',
];

function validateProps(props: TrainingPipelineProps): void {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]*$/.test(props.namePrefix) || props.namePrefix.length > MAX_NAME_PREFIX) {
    problems.push(
      `namePrefix: lower-case letters, digits and '-', starting with a letter, at most ${MAX_NAME_PREFIX} characters; got "${props.namePrefix}"`,
    );
  }
  if (props.resources.instanceCount < 1) problems.push('resources.instanceCount: at least 1');
  if (props.removalPolicy === RemovalPolicy.DESTROY && !props.runCleanup) {
    problems.push(
      'runCleanup: required with RemovalPolicy.DESTROY, or the destroy leaves run artefacts behind',
    );
  }
  if (problems.length > 0) throw new Error(`Invalid TrainingPipeline props:\n  - ${problems.join('\n  - ')}`);
}

/** A production variant for `createEndpointConfig`, with the model name read from the run's state. */
function apiProductionVariant(
  name: string,
  weight: number,
  modelNamePath: string,
  hosting: EndpointHosting,
): TaskParameters<ProductionVariant> {
  const base = { VariantName: name, 'ModelName.$': modelNamePath, InitialVariantWeight: weight };
  return hosting.kind === 'serverless'
    ? {
        ...base,
        ServerlessConfig: { MemorySizeInMB: hosting.memorySizeMb, MaxConcurrency: hosting.maxConcurrency },
      }
    : {
        ...base,
        InstanceType: hosting.instanceType as ProductionVariantInstanceType,
        InitialInstanceCount: hosting.minInstances,
      };
}
