import { ArnFormat, type CustomResource, Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct, IConstruct } from 'constructs';
import { TRAINING_JOB_LOG_GROUP } from '../../../../lambda/platform/sagemaker-cleanup/names';
import { acknowledgeActionsWithoutResourceTypes } from '../../nag/acknowledge-actions-without-resource-types';
import { CustomResourceHandler } from '../compute/custom-resource-handler';

export interface TrainingRunCleanupProps {
  /**
   * What training runs start the names of the models, endpoint configs and model package groups
   * they create with (`<prefix>-...`): the cleanup may delete those and nothing else. Lower-case
   * letters, digits and `-`, starting with a letter.
   */
  readonly namePrefix: string;
  /**
   * Resources CloudFormation must delete before the cleanup runs: they depend on its resource. The
   * endpoint belongs here, since SageMaker says an endpoint config in use by a live endpoint must not
   * be deleted (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html).
   * @default - none
   */
  readonly deleteFirst?: readonly IConstruct[];
  /** Retention of the handler's and the provider's logs. @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** What `cdk destroy` does to those logs. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * On destroy, deletes what training runs created outside CloudFormation: the models and endpoint
 * configs named `<namePrefix>-...`, the versions of the runs' model package groups, and the runs'
 * streams in the account-wide training job log group. It serves the `ModelsCleanup` resource, which
 * it creates beside itself in its scope (that resource's logical ID predates this construct, and a
 * new one would run the cleanup on the next deploy), for models and endpoint configs; the training
 * pipeline adds its own resource for the registry and the log streams with `addResource`.
 */
export class TrainingRunCleanup extends CustomResourceHandler {
  /** The resource whose deletion deletes the runs' models and endpoint configs. */
  public readonly modelsCleanup: CustomResource;

  constructor(scope: Construct, id: string, props: TrainingRunCleanupProps) {
    if (!/^[a-z][a-z0-9-]*$/.test(props.namePrefix)) {
      throw new Error(
        `Invalid TrainingRunCleanup ${id}:\n  - namePrefix: lower-case letters, digits and '-', starting with a letter; got ${JSON.stringify(props.namePrefix)}`,
      );
    }
    super(scope, id, {
      handlerFolder: 'platform/sagemaker-cleanup',
      description:
        'On destroy: deletes the models, configs, packages and log streams that training runs created',
      timeout: Duration.minutes(10),
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    this.grantCleanup(props.namePrefix);
    this.modelsCleanup = this.addResource(scope, 'ModelsCleanup', 'SageMakerRunCleanup', {
      NamePrefix: props.namePrefix,
      ModelsAndEndpointConfigs: 'true',
      TrainingLogStreams: 'false',
    });
    for (const resource of props.deleteFirst ?? []) resource.node.addDependency(this.modelsCleanup);
  }

  /** What the handler deletes, by name prefix, and the listing that finds it. */
  private grantCleanup(namePrefix: string): void {
    const stack = Stack.of(this);
    const arn = (service: string, resource: string, resourceName: string, arnFormat?: ArnFormat) =>
      stack.formatArn({ service, resource, resourceName, arnFormat });
    const listActions = [
      'sagemaker:ListModels',
      'sagemaker:ListEndpointConfigs',
      'sagemaker:ListModelPackages',
    ];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: listActions, resources: ['*'] }));
    acknowledgeActionsWithoutResourceTypes(this.role, {
      actions: listActions,
      purpose:
        "the cleanup lists the account's models, endpoint configs and package versions to find those named with its prefix",
      reference:
        'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DeleteModel', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModelPackage'],
        resources: [
          arn('sagemaker', 'model', `${namePrefix}-*`),
          arn('sagemaker', 'endpoint-config', `${namePrefix}-*`),
          arn('sagemaker', 'model-package', `${namePrefix}-models-*/*`),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:DescribeLogStreams', 'logs:DeleteLogStream'],
        resources: [
          // Log-group ARNs end in `:*` in policies for every action but tagging
          // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
          arn('logs', 'log-group', `${TRAINING_JOB_LOG_GROUP}:*`, ArnFormat.COLON_RESOURCE_NAME),
          arn(
            'logs',
            'log-group',
            `${TRAINING_JOB_LOG_GROUP}:log-stream:${namePrefix}-*`,
            ArnFormat.COLON_RESOURCE_NAME,
          ),
        ],
      }),
    );
  }
}
