import type {
  CreateEndpointConfigInput,
  CreateModelInput,
  DescribeEndpointConfigInput,
  DescribeEndpointInput,
  EndpointStatus,
  ProductionVariant,
  ProductionVariantInstanceType,
  UpdateEndpointInput,
} from '@aws-sdk/client-sagemaker';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { sdkParameters, type TaskParameters } from '../../workflow/sdk-parameters';
import { ARTIFACT_PREFIXES } from '../artifact-layout';
import {
  inferenceEnvironment,
  networkIsolation,
  NOT_RETAINED_ON_UPDATE,
  type EndpointHosting,
} from '../endpoint-hosting';
import type { ModelEndpoint } from '../model-endpoint';
import { RUN, runArn, type PipelineScope } from './run-state';

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

export interface RollOutStepProps {
  readonly endpoint: ModelEndpoint;
  readonly hosting: EndpointHosting;
  readonly inferenceImageUri: string;
  /** Where trained models are; their role gets read access to `models/`. */
  readonly artifacts: s3.IBucket;
  readonly key: kms.IKey;
}

/**
 * Roll out: the run's model, an endpoint config that makes it the champion variant (the previous
 * champion keeps the challenger share, so every rollout is also an A/B test of new against old), and
 * `UpdateEndpoint` with the endpoint's deployment guardrails; then a poll loop until the endpoint
 * serves the new config, has rolled back, or has failed.
 */
export class RollOutStep {
  private readonly chain: sfn.Chain;

  constructor(
    private readonly pipeline: PipelineScope,
    private readonly props: RollOutStepProps,
  ) {
    const { scope, guard } = pipeline;
    const { endpoint, hosting } = props;
    // Models the pipeline creates read the trained artefacts.
    props.artifacts.grantRead(endpoint.modelRole, `${ARTIFACT_PREFIXES.models}*`);
    props.key.grantDecrypt(endpoint.modelRole);

    const createModel = guard(
      new tasks.CallAwsService(scope, 'CreateModel', {
        service: 'sagemaker',
        action: 'createModel',
        parameters: sdkParameters<CreateModelInput>({
          'ModelName.$': RUN.name,
          ExecutionRoleArn: endpoint.modelRole.roleArn,
          EnableNetworkIsolation: networkIsolation(hosting),
          PrimaryContainer: {
            Image: props.inferenceImageUri,
            'ModelDataUrl.$': RUN.modelDataUrl,
            Environment: inferenceEnvironment(hosting),
          },
        }),
        iamResources: [runArn(scope, pipeline.namePrefix, 'model')],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const createEndpointConfig = guard(
      new tasks.CallAwsService(scope, 'CreateEndpointConfig', {
        service: 'sagemaker',
        action: 'createEndpointConfig',
        parameters: sdkParameters<CreateEndpointConfigInput>({
          'EndpointConfigName.$': RUN.name,
          ProductionVariants: endpoint.variants.map((variant, index) =>
            apiProductionVariant(
              variant.name,
              variant.weight,
              index === 0 ? RUN.name : '$.current.variants.championModel',
              hosting,
            ),
          ),
          // Every config the pipeline creates captures as the first one did (instances only).
          DataCaptureConfig: endpoint.dataCaptureConfig,
        }),
        iamResources: [runArn(scope, pipeline.namePrefix, 'endpoint-config')],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const updateEndpoint = guard(
      new tasks.CallAwsService(scope, 'UpdateEndpoint', {
        comment: 'Returns at once; the loop below waits for the deployment to finish',
        service: 'sagemaker',
        action: 'updateEndpoint',
        parameters: sdkParameters<UpdateEndpointInput>({
          EndpointName: endpoint.endpointName,
          'EndpointConfigName.$': RUN.name,
          DeploymentConfig: endpoint.deploymentConfig,
          ...(hosting.kind === 'instances'
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
    this.chain = createModel
      // With one variant there is no challenger to keep.
      .next(
        endpoint.variants.length > 1
          ? this.readCurrentChampion().next(createEndpointConfig)
          : createEndpointConfig,
      )
      .next(updateEndpoint);
  }

  /**
   * The roll-out, then the poll loop. DeploymentStatus goes on to `inService` once the endpoint is
   * InService on the run's config; InService on another config means a rollback alarm fired
   * (DeploymentRolledBack); a terminal status fails the run (DeploymentFailed).
   */
  public thenWaitFor(inService: sfn.IChainable): sfn.Chain {
    const { scope, failures } = this.pipeline;
    const { endpoint } = this.props;
    const waitForDeployment = new sfn.Wait(scope, 'WaitForDeployment', {
      time: sfn.WaitTime.duration(Duration.minutes(1)),
    });
    const pollEndpoint = this.pipeline.guard(
      new tasks.CallAwsService(scope, 'PollEndpoint', {
        service: 'sagemaker',
        action: 'describeEndpoint',
        parameters: sdkParameters<DescribeEndpointInput>({ EndpointName: endpoint.endpointName }),
        iamResources: [endpoint.endpointArn],
        resultSelector: { 'status.$': '$.EndpointStatus', 'configName.$': '$.EndpointConfigName' },
        resultPath: RUN.deployment,
      }),
    );
    const status = `${RUN.deployment}.status`;
    const rolledBack = failures.failWith(
      'RolledBack',
      'DeploymentRolledBack',
      `States.Format('Endpoint serves {} instead of {}: a rollback alarm fired', ${RUN.deployment}.configName, ${RUN.name})`,
    );
    const deploymentFailed = failures.failWith(
      'DeploymentFailed',
      'DeploymentFailed',
      `States.Format('Endpoint status {}', ${status})`,
    );
    return this.chain
      .next(waitForDeployment)
      .next(pollEndpoint)
      .next(
        new sfn.Choice(scope, 'DeploymentStatus')
          .when(
            sfn.Condition.and(
              sfn.Condition.stringEquals(status, 'InService'),
              sfn.Condition.stringEqualsJsonPath(`${RUN.deployment}.configName`, RUN.name),
            ),
            inService,
          )
          .when(sfn.Condition.stringEquals(status, 'InService'), rolledBack)
          .when(
            sfn.Condition.or(
              ...TERMINAL_ENDPOINT_FAILURES.map((failed) => sfn.Condition.stringEquals(status, failed)),
            ),
            deploymentFailed,
          )
          .otherwise(waitForDeployment),
      );
  }

  /** What the roll-out needs of `role`: pass the models' role, create models and configs, deploy. */
  public grant(role: iam.IRole): void {
    const { scope, namePrefix } = this.pipeline;
    this.props.endpoint.modelRole.grantPassRole(role);
    this.props.endpoint.grantDeploy(role, [runArn(scope, namePrefix, 'endpoint-config')]);
  }

  /** Which model serves the champion variant now: it becomes the challenger. */
  private readCurrentChampion(): sfn.Chain {
    const { scope, guard } = this.pipeline;
    const { endpoint } = this.props;
    const readConfig = guard(
      new tasks.CallAwsService(scope, 'DescribeEndpoint', {
        comment: 'Which model serves the champion variant now: it becomes the challenger',
        service: 'sagemaker',
        action: 'describeEndpoint',
        parameters: sdkParameters<DescribeEndpointInput>({ EndpointName: endpoint.endpointName }),
        iamResources: [endpoint.endpointArn],
        resultSelector: { 'configName.$': '$.EndpointConfigName' },
        resultPath: '$.current',
      }),
    );
    const readChampion = guard(
      new tasks.CallAwsService(scope, 'DescribeEndpointConfig', {
        service: 'sagemaker',
        action: 'describeEndpointConfig',
        parameters: sdkParameters<DescribeEndpointConfigInput>({
          'EndpointConfigName.$': '$.current.configName',
        }),
        iamResources: [
          Stack.of(scope).formatArn({ service: 'sagemaker', resource: 'endpoint-config', resourceName: '*' }),
        ],
        // Variants are created champion first.
        resultSelector: { 'championModel.$': '$.ProductionVariants[0].ModelName' },
        resultPath: '$.current.variants',
      }),
    );
    return readConfig.next(readChampion);
  }
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
