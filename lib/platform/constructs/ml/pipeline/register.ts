import type { CreateModelPackageInput } from '@aws-sdk/client-sagemaker';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { CustomResourceHandler } from '../../compute/custom-resource-handler';
import { stackUniqueSuffix } from '../../data/stack-unique-suffix';
import { sdkParameters } from '../../workflow/sdk-parameters';
import { RUN, type PipelineScope } from './run-state';

export interface RegisterStepProps {
  /** The inference image the package names, as its models run it. */
  readonly inferenceImageUri: string;
  /**
   * The group's description. CloudFormation replaces the group when it changes, and a named group
   * cannot be replaced in place: fix it when the stack is first deployed.
   */
  readonly description: string;
  /** What `cdk destroy` does to the group and its versions. */
  readonly removalPolicy: RemovalPolicy;
  /** Deletes the group's package versions on destroy; required with `RemovalPolicy.DESTROY`. */
  readonly runCleanup?: CustomResourceHandler;
}

/**
 * Register: the promoted candidate becomes an approved package version in the run's Model Registry
 * group, with the gate's decision as its metadata.
 */
export class RegisterStep {
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  public readonly task: tasks.CallAwsService;

  constructor(pipeline: PipelineScope, props: RegisterStepProps) {
    const { scope, namePrefix } = pipeline;
    // The group's name is required, and a retained group outlives its stack: the suffix, unique per
    // stack creation, keeps a redeploy after destroy from colliding with the group left behind.
    const groupName = `${namePrefix}-models-${stackUniqueSuffix(scope)}`;
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(scope, 'ModelPackageGroup', {
      modelPackageGroupName: groupName,
      modelPackageGroupDescription: props.description,
    });
    this.modelPackageGroup.applyRemovalPolicy(props.removalPolicy);
    if (props.removalPolicy === RemovalPolicy.DESTROY && props.runCleanup) {
      // On destroy, before the group goes, deletes its package versions (SageMaker refuses to delete
      // a group that holds any) and the runs' training log streams, which live in the account-wide
      // `/aws/sagemaker/TrainingJobs` group that no stack owns.
      const cleanup = props.runCleanup.addResource(scope, 'RunCleanup', 'SageMakerRunCleanup', {
        NamePrefix: namePrefix,
        ModelPackageGroupName: groupName,
        ModelsAndEndpointConfigs: 'false',
        TrainingLogStreams: 'true',
      });
      // Created after the group, so deleted before it.
      cleanup.node.addDependency(this.modelPackageGroup);
    }

    this.task = pipeline.guard(
      new tasks.CallAwsService(scope, 'Register', {
        comment: 'Model Registry: the approved package of this run',
        service: 'sagemaker',
        action: 'createModelPackage',
        parameters: sdkParameters<CreateModelPackageInput>({
          ModelPackageGroupName: groupName,
          'ModelPackageDescription.$': `States.Format('Training job {}', ${RUN.trainingJob})`,
          ModelApprovalStatus: 'Approved',
          InferenceSpecification: {
            Containers: [{ Image: props.inferenceImageUri, 'ModelDataUrl.$': RUN.modelDataUrl }],
            SupportedContentTypes: ['application/json'],
            SupportedResponseMIMETypes: ['application/json'],
          },
          // Built by the gate within the registry's character set and lengths: free text such as the
          // gate's reasons would be rejected by CreateModelPackage's pattern.
          'CustomerMetadataProperties.$': `${RUN.gate}.registryMetadata`,
        }),
        iamResources: [
          this.modelPackageGroup.attrModelPackageGroupArn,
          Stack.of(scope).formatArn({
            service: 'sagemaker',
            resource: 'model-package',
            resourceName: `${groupName}/*`,
          }),
        ],
        resultSelector: { 'arn.$': '$.ModelPackageArn' },
        resultPath: '$.modelPackage',
      }),
    );
  }
}
