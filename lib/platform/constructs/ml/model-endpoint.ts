import type { DataCaptureConfig, DeploymentConfig } from '@aws-sdk/client-sagemaker';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct, IDependable } from 'constructs';
import type { AbVariant } from '../../config/design';
import type { DlcImage } from './dlc-image';
import {
  blueGreenCanary,
  hostingProblems,
  inferenceEnvironment,
  networkIsolation,
  NOT_RETAINED_ON_UPDATE,
  productionVariant,
  toCfnCasing,
  type EndpointHosting,
} from './endpoint-hosting';
import {
  ImportedModelEndpoint,
  ModelEndpointBase,
  type IModelEndpoint,
  type ModelEndpointAttributes,
} from './model-endpoint-base';
import { uniqueRetainedName } from '../data/stack-unique-suffix';
import type { EndpointAlarmThresholds } from '../monitoring/alarm-thresholds';
import { endpointAlarms, type VariantAlarms } from '../monitoring/endpoint-alarms';
import { acknowledgeActionsWithoutResourceTypes } from '../../nag/acknowledge-actions-without-resource-types';

export type { EndpointHosting, SageMakerInstanceType } from './endpoint-hosting';
export {
  inferenceEnvironment,
  networkIsolation,
  NOT_RETAINED_ON_UPDATE,
  productionVariant,
  toCfnCasing,
} from './endpoint-hosting';
export type { EndpointMetricOptions, IModelEndpoint, ModelEndpointAttributes } from './model-endpoint-base';

export interface ModelEndpointProps {
  readonly image: DlcImage;
  /** The model served until the training pipeline rolls out its first model. */
  readonly initialModelData: {
    readonly bucket: s3.IBucket;
    /** A `.tar.gz` key: `ModelDataUrl` must name a gzip-compressed tar archive with that suffix. */
    readonly key: string;
    /** What must exist before the model is created (e.g. the copy that puts the object there). */
    readonly ready?: IDependable;
  };
  /** Production variants and their traffic weights; the first is the champion. */
  readonly variants: readonly AbVariant[];
  readonly hosting: EndpointHosting;
  /**
   * Where requests and responses are captured (JSON only). Ignored for serverless hosting, which
   * cannot capture.
   * @default - no capture
   */
  readonly dataCapture?: {
    readonly bucket: s3.IBucket;
    readonly prefix: string;
    readonly key: kms.IKey;
    /** @default 100 */
    readonly samplingPercent?: number;
  };
  /**
   * The role the models assume; it must trust `sagemaker.amazonaws.com`. The endpoint grants it
   * what serving needs: read the initial model data, pull the image, write logs and metrics,
   * capture data, read the rollback alarms.
   * @default - a new role with exactly those grants
   */
  readonly role?: iam.IRole;
  /**
   * What the variants' alarms watch for (`endpointAlarms`); the same alarms roll deployments back.
   * @default DEFAULT_ENDPOINT_ALARM_THRESHOLDS: any 5xx in a minute, a p99 model latency over 1 s
   */
  readonly alarmThresholds?: EndpointAlarmThresholds;
  /**
   * What the alarms do when they fire besides rolling back, e.g. notify the design's alarm topic.
   * @default - nothing
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /** Retention of the endpoint's container logs. @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** What `cdk destroy` does to the endpoint's log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A real-time SageMaker endpoint with A/B production variants: model, endpoint config, endpoint,
 * alarms that roll a bad deployment back, and per-variant auto-scaling. It comes up InService on the
 * first deploy with `initialModelData`; the training pipeline later points it at trained models
 * with `UpdateEndpoint` and the `deploymentConfig` exposed here.
 */
export class ModelEndpoint extends ModelEndpointBase {
  /** An endpoint built elsewhere, with this construct's grants and metrics. */
  public static fromEndpointAttributes(
    scope: Construct,
    id: string,
    attrs: ModelEndpointAttributes,
  ): IModelEndpoint {
    return new ImportedModelEndpoint(scope, id, attrs);
  }

  public readonly endpoint: sagemaker.CfnEndpoint;
  /**
   * The endpoint's name as CloudFormation reports it (`GetAtt`), for other stacks: one reference,
   * where the name this construct builds is a join over its stack's id.
   */
  public readonly endpointName: string;
  /** The name given to the endpoint, usable before it exists (alarms, log group, scaling). */
  private readonly name: string;
  protected readonly metricEndpointName: string;
  public readonly endpointArn: string;
  /** The role models assume: reads model artefacts, pulls the inference image. */
  public readonly modelRole: iam.IRole;
  public readonly variants: readonly AbVariant[];
  public readonly hosting: EndpointHosting;
  /** Each variant's alarms, from the platform's monitoring (`endpointAlarms`). */
  public readonly alarms: readonly VariantAlarms[];
  /** Alarms whose state rolls a blue/green deployment back. Empty for serverless hosting. */
  public readonly rollbackAlarms: readonly cloudwatch.Alarm[];
  /** `DeploymentConfig` for `UpdateEndpoint`, or undefined where guardrails do not apply (serverless). */
  public readonly deploymentConfig?: DeploymentConfig;
  /** `DataCaptureConfig` for `CreateEndpointConfig`, or undefined without capture (serverless). */
  public readonly dataCaptureConfig?: DataCaptureConfig;
  /** The log group SageMaker writes the containers' logs to, owned here for its retention and removal. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const problems = hostingProblems(props.hosting, props.variants);
    if (problems.length > 0) throw new Error(`Invalid ModelEndpoint props:\n  - ${problems.join('\n  - ')}`);
    const serverless = props.hosting.kind === 'serverless';
    this.variants = props.variants;
    this.hosting = props.hosting;
    // Named here, not by CloudFormation: the rollback alarms watch the endpoint by name, the endpoint
    // names the alarms, and the log group carries the name, so it must be known before any of them.
    // Unique per stack creation: production keeps the log group on destroy, and the next deploy's
    // endpoint must not collide with it.
    this.name = uniqueRetainedName(this, 63);
    this.metricEndpointName = this.name;
    // SageMaker creates /aws/sagemaker/Endpoints/<name> on first write, without expiry, and nothing
    // deletes it; created here first, it follows the profile's retention and removal policy.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/sagemaker/Endpoints/${this.name}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.modelRole =
      props.role ??
      new iam.Role(this, 'ModelRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: 'Served models: read artefacts, pull the inference image, write logs',
      });
    props.image.grantPull(this, this.modelRole);
    props.initialModelData.bucket.grantRead(this.modelRole, props.initialModelData.key);
    grantModelLogs(this.modelRole, this.logGroup);

    const model = new sagemaker.CfnModel(this, 'InitialModel', {
      executionRoleArn: this.modelRole.roleArn,
      enableNetworkIsolation: networkIsolation(props.hosting),
      primaryContainer: {
        image: props.image.imageUri(this),
        // ModelDataUrl, not ModelDataSource: "you cannot use ModelDataSource in conjunction with ...
        // SageMaker serverless endpoints"
        // (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html).
        modelDataUrl: props.initialModelData.bucket.s3UrlForObject(props.initialModelData.key),
        environment: inferenceEnvironment(props.hosting),
      },
    });
    model.node.addDependency(this.modelRole);
    if (props.initialModelData.ready) model.node.addDependency(props.initialModelData.ready);

    const capture = serverless ? undefined : props.dataCapture;
    if (capture) {
      capture.bucket.grantPut(this.modelRole, `${capture.prefix}*`);
      capture.key.grantEncryptDecrypt(this.modelRole);
      this.dataCaptureConfig = {
        EnableCapture: true,
        InitialSamplingPercentage: capture.samplingPercent ?? 100,
        DestinationS3Uri: capture.bucket.s3UrlForObject(capture.prefix),
        KmsKeyId: capture.key.keyArn,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
      };
    }
    const config = new sagemaker.CfnEndpointConfig(this, 'InitialConfig', {
      productionVariants: props.variants.map((variant) =>
        productionVariant(variant, model.attrModelName, props.hosting),
      ),
      dataCaptureConfig:
        this.dataCaptureConfig &&
        toCfnCasing<sagemaker.CfnEndpointConfig.DataCaptureConfigProperty>(this.dataCaptureConfig),
    });

    this.alarms = endpointAlarms(this, this, props.alarmThresholds, props.alarmAction);
    // Serverless endpoints take no deployment config, so their alarms only page.
    this.rollbackAlarms = serverless ? [] : this.alarms.flatMap((v) => [v.errors, v.latency]);
    this.deploymentConfig = serverless ? undefined : blueGreenCanary(this.rollbackAlarms);
    if (this.rollbackAlarms.length > 0) this.grantDescribeRollbackAlarms(this.modelRole);
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.name,
      endpointConfigName: config.attrEndpointConfigName,
      // A stack update that changes the config must not reset what auto-scaling added either.
      ...(serverless
        ? {}
        : {
            retainAllVariantProperties: true,
            excludeRetainedVariantProperties:
              toCfnCasing<sagemaker.CfnEndpoint.VariantPropertyProperty[]>(NOT_RETAINED_ON_UPDATE),
          }),
      deploymentConfig:
        this.deploymentConfig &&
        toCfnCasing<sagemaker.CfnEndpoint.DeploymentConfigProperty>(this.deploymentConfig),
    });
    this.endpoint.node.addDependency(this.logGroup);
    this.endpointName = this.endpoint.attrEndpointName;
    // Ref of an AWS::SageMaker::Endpoint is its ARN, spelled as SageMaker spells it (lower case).
    this.endpointArn = this.endpoint.ref;

    if (props.hosting.kind === 'instances') this.addAutoScaling(props.hosting);
  }

  /**
   * Lets `grantee` roll a new endpoint config out: `UpdateEndpoint` with this endpoint's deployment
   * guardrails, and the `DescribeAlarms` on the rollback alarms that guardrails require of the caller
   * ("Ensure that your IAM execution role has permission to perform the cloudwatch:DescribeAlarms
   * action on the auto-rollback alarms you specify",
   * https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html).
   */
  public grantDeploy(grantee: iam.IGrantable, endpointConfigArns: readonly string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'],
      resourceArns: [this.endpointArn, ...endpointConfigArns],
    });
    return this.rollbackAlarms.length > 0 ? grant.combine(this.grantDescribeRollbackAlarms(grantee)) : grant;
  }

  /**
   * Guardrails need `cloudwatch:DescribeAlarms` on the rollback alarms for "your IAM execution
   * role": granted to the role that starts the update and to the models' execution role, since the
   * document does not say which of the two SageMaker uses.
   */
  private grantDescribeRollbackAlarms(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudwatch:DescribeAlarms'],
      resourceArns: this.rollbackAlarms.map((alarm) => alarm.alarmArn),
    });
  }

  private addAutoScaling(hosting: Extract<EndpointHosting, { kind: 'instances' }>): void {
    for (const variant of this.variants) {
      const target = new appscaling.ScalableTarget(this, `${variant.name}Scaling`, {
        serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
        resourceId: `endpoint/${this.name}/variant/${variant.name}`,
        scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        minCapacity: hosting.minInstances,
        maxCapacity: hosting.maxInstances,
      });
      // Registered after the endpoint exists, and so deregistered before it is deleted.
      target.node.addDependency(this.endpoint);
      target.scaleToTrackMetric('InvocationsPerInstance', {
        predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
        targetValue: hosting.targetInvocationsPerInstancePerMinute,
        scaleOutCooldown: Duration.minutes(1),
        scaleInCooldown: Duration.minutes(5),
      });
    }
  }
}

function grantModelLogs(role: iam.IRole, logGroup: logs.ILogGroup): void {
  acknowledgeActionsWithoutResourceTypes(role, {
    actions: ['ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData'],
    purpose:
      'SageMaker signs in to ECR to pull the inference image, and the container publishes metrics, limited to the SageMaker namespaces by a condition',
  });
  // One stream per instance and container, named by SageMaker at run time.
  logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
    }),
  );
}
