import type { CreateProcessingJobRequest, ProcessingInstanceType } from '@aws-sdk/client-sagemaker';
import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { sdkParameters } from '../../workflow/sdk-parameters';
import { ARTIFACT_PREFIXES, TRAINING_OUTPUT_FILES } from '../artifact-layout';
import { acknowledgeActionsWithoutResourceTypes } from '../../../nag/acknowledge-actions-without-resource-types';
import { grantProcessingJobLogs, type DataQualityMonitor } from '../data-quality-monitor';
import { DlcImage } from '../dlc-image';
import type { SageMakerInstanceType } from '../endpoint-hosting';
import { modelMonitorAnalyzerImageUri } from '../model-monitor-image';
import { grantSageMakerSyncRule, OUTPUT_ARCHIVE_KEY, RUN, runArn, type PipelineScope } from './run-state';

export interface BaselineStepProps {
  readonly artifacts: s3.IBucket;
  readonly key: kms.IKey;
  /** The monitor whose baseline the promoted run replaces. */
  readonly monitor: DataQualityMonitor;
  /** @default 'ml.m5.xlarge' */
  readonly instanceType?: SageMakerInstanceType;
}

/** Where the processing jobs see their inputs and write their outputs (the processing job contract). */
const LOCAL = {
  archive: '/opt/ml/processing/input/archive',
  dataset: '/opt/ml/processing/input/baseline_dataset_input',
  output: '/opt/ml/processing/output',
} as const;

/**
 * Extracts one folder of a tar archive into a directory, the folder's prefix removed; exits
 * non-zero, naming the folder, when the archive has none of it. One line without braces (Step
 * Functions would read braces as an intrinsic function's placeholders), at most 256 characters, as
 * `ContainerEntrypoint` allows
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AppSpecification.html).
 */
export const EXTRACT_FOLDER_SCRIPT =
  "import sys,tarfile as T;a,o,p=sys.argv[1:];t=T.open(a);m=[x for x in t.getmembers() if x.isfile() and x.name.lstrip('./').startswith(p)]" +
  ";[setattr(x,'name',x.name.lstrip('./')[len(p):]) for x in m];t.extractall(o,m);sys.exit(0 if m else 'no '+p+' in '+a)";

/**
 * Baseline, once the promoted model serves: the monitor's baseline becomes the statistics and
 * constraints of the run's baseline sample (the rows its training job wrote, in the form the
 * monitor compares). Two processing jobs, each `createProcessingJob.sync`:
 * 1. ExtractBaselineSample takes `monitoring-baseline/` out of the run's `output.tar.gz`, which no
 *    processing input can read inside, to `monitoring/baseline-dataset/<run>/`;
 * 2. SuggestBaseline runs Model Monitor's analyzer on it with `dataset_format` JSON lines and writes
 *    `constraints.json` and `statistics.json` to the fixed prefix every monitoring run reads
 *    (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-create-baseline.html; the
 *    environment is what the SageMaker Python SDK's `suggest_baseline` gives the analyzer).
 * A rejected candidate never gets here: the baseline always describes the model serving.
 */
export class BaselineStep {
  public readonly start: sfn.CustomState;
  public readonly end: sfn.CustomState;
  /** The role both jobs run as. */
  public readonly role: iam.Role;

  constructor(
    private readonly pipeline: PipelineScope,
    props: BaselineStepProps,
  ) {
    const { scope, namePrefix } = pipeline;
    const { artifacts, key, monitor } = props;
    const extractImage = DlcImage.pytorchInference('cpu');
    this.role = new iam.Role(scope, 'BaselineRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: "Baselining jobs: read a run's output, write the monitor's baseline",
    });
    // The run's output.tar.gz lies at models/<run>/output/; the role cannot write models.
    artifacts.grantRead(this.role, `${ARTIFACT_PREFIXES.models}*`);
    artifacts.grantReadWrite(this.role, `${ARTIFACT_PREFIXES.monitoringBaselineDataset}*`);
    artifacts.grantPut(this.role, `${monitor.baseline.prefix}*`);
    key.grantEncryptDecrypt(this.role);
    extractImage.grantPull(scope, this.role);
    grantProcessingJobLogs(scope, this.role);
    acknowledgeActionsWithoutResourceTypes(this.role, {
      actions: ['ecr:GetAuthorizationToken'],
      purpose: 'SageMaker signs in to ECR to pull the image that extracts the baseline sample',
    });

    const datasetUri = `States.Format('${artifacts.s3UrlForObject(ARTIFACT_PREFIXES.monitoringBaselineDataset)}{}/', ${RUN.name})`;
    const common = (maxRuntime: Duration) => ({
      RoleArn: this.role.roleArn,
      ProcessingResources: {
        ClusterConfig: {
          InstanceCount: 1,
          InstanceType: (props.instanceType ?? 'ml.m5.xlarge') as ProcessingInstanceType,
          VolumeSizeInGB: 20,
          VolumeKmsKeyId: key.keyArn,
        },
      },
      StoppingCondition: { MaxRuntimeInSeconds: maxRuntime.toSeconds() },
      // Inputs and outputs are staged by SageMaker: neither job needs a network.
      NetworkConfig: { EnableNetworkIsolation: true },
    });

    this.start = this.task('ExtractBaselineSample', 'The baseline sample out of the run output archive', {
      ...sdkParameters<CreateProcessingJobRequest>({
        'ProcessingJobName.$': RUN.name,
        AppSpecification: {
          ImageUri: extractImage.imageUri(scope),
          ContainerEntrypoint: ['python3', '-c', EXTRACT_FOLDER_SCRIPT],
          ContainerArguments: [
            `${LOCAL.archive}/output.tar.gz`,
            LOCAL.output,
            TRAINING_OUTPUT_FILES.monitoringBaselineDir,
          ],
        },
        ProcessingInputs: [
          {
            InputName: 'archive',
            S3Input: {
              'S3Uri.$': `States.Format('s3://${artifacts.bucketName}/{}', ${OUTPUT_ARCHIVE_KEY})`,
              LocalPath: LOCAL.archive,
              S3DataType: 'S3Prefix',
              S3InputMode: 'File',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
        ],
        ProcessingOutputConfig: {
          Outputs: [
            {
              OutputName: 'baseline_dataset',
              S3Output: { 'S3Uri.$': datasetUri, LocalPath: LOCAL.output, S3UploadMode: 'EndOfJob' },
            },
          ],
          KmsKeyId: key.keyArn,
        },
      }),
      ...common(Duration.minutes(30)),
    });
    this.end = this.task('SuggestBaseline', "Model Monitor's statistics and constraints of the sample", {
      ...sdkParameters<CreateProcessingJobRequest>({
        // A name of its own in the run's prefix: processing job names are unique per account.
        'ProcessingJobName.$': `States.Format('${namePrefix}-{}', States.UUID())`,
        AppSpecification: { ImageUri: modelMonitorAnalyzerImageUri(scope) },
        Environment: {
          dataset_format: JSON.stringify({ json: { lines: true } }),
          dataset_source: LOCAL.dataset,
          output_path: LOCAL.output,
          publish_cloudwatch_metrics: 'Disabled',
        },
        ProcessingInputs: [
          {
            InputName: 'baseline_dataset_input',
            S3Input: {
              'S3Uri.$': datasetUri,
              LocalPath: LOCAL.dataset,
              S3DataType: 'S3Prefix',
              S3InputMode: 'File',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
        ],
        ProcessingOutputConfig: {
          Outputs: [
            {
              OutputName: 'monitoring_output',
              S3Output: {
                S3Uri: artifacts.s3UrlForObject(monitor.baseline.prefix),
                LocalPath: LOCAL.output,
                S3UploadMode: 'EndOfJob',
              },
            },
          ],
          KmsKeyId: key.keyArn,
        },
      }),
      ...common(Duration.hours(1)),
    });
    this.start.next(this.end);
  }

  /** What `createProcessingJob.sync` needs of `principal`: the jobs, the role they run as, the rule that watches them. */
  public grantStart(principal: iam.IGrantable): void {
    const { scope, namePrefix } = this.pipeline;
    principal.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateProcessingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopProcessingJob',
          'sagemaker:AddTags',
        ],
        resources: [runArn(scope, namePrefix, 'processing-job')],
      }),
    );
    grantSageMakerSyncRule(principal, scope, 'ProcessingJobs');
    this.role.grantPassRole(principal.grantPrincipal);
  }

  private task(id: string, comment: string, parameters: Record<string, unknown>): sfn.CustomState {
    return this.pipeline.guard(
      new sfn.CustomState(this.pipeline.scope, id, {
        stateJson: {
          Type: 'Task',
          Comment: comment,
          Resource: `arn:${Aws.PARTITION}:states:::sagemaker:createProcessingJob.sync`,
          Parameters: parameters,
          ResultPath: null,
        },
      }),
    );
  }
}
