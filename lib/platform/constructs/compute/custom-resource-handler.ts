import * as path from 'node:path';
import { CustomResource, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeCdkProviderRuntime } from '../../nag/acknowledge-cdk-provider-runtime';
import { acknowledgeLambdaBasicExecution } from '../../nag/acknowledge-lambda-basic-execution';
import { acknowledgeProviderInvokesHandler } from '../../nag/acknowledge-provider-invokes-handler';
import { BundledFunction } from './bundled-function';

export interface CustomResourceHandlerProps {
  /** Folder under `lambda/` whose handler answers CloudFormation custom resource events. */
  readonly handlerFolder: string;
  readonly description: string;
  /** Longest a single create, update or delete may take (the handler's timeout; at most 15 minutes). */
  readonly timeout: Duration;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A custom resource handler of ours behind aws-cdk-lib's provider framework, which turns a thrown
 * error into a FAILED response (so a failure fails the deployment or the destroy, with the message),
 * and retries reporting to CloudFormation. Resources are added with `addResource`.
 */
export class CustomResourceHandler extends Construct {
  public readonly handler: BundledFunction;
  private readonly provider: cr.Provider;

  constructor(scope: Construct, id: string, props: CustomResourceHandlerProps) {
    super(scope, id);
    const logGroup = (name: string) =>
      new logs.LogGroup(this, name, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
    this.handler = new BundledFunction(this, 'Handler', {
      handlerFolder: props.handlerFolder,
      description: props.description,
      timeout: props.timeout,
      environment: { POWERTOOLS_SERVICE_NAME: path.basename(props.handlerFolder) },
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      logGroup: logGroup('ProviderLogs'),
    });
    acknowledgeLambdaBasicExecution(this.provider);
    acknowledgeCdkProviderRuntime(this.provider);
    acknowledgeProviderInvokesHandler(this.provider, this.handler.function);
  }

  /** The role of the handler, for the grants its work needs. */
  public get role(): iam.IRole {
    return this.handler.function.role!;
  }

  /**
   * A custom resource served by this handler, in `scope` (another stack's scope works: the service
   * token is then a cross-stack reference); properties reach it as strings.
   */
  public addResource(
    scope: Construct,
    id: string,
    resourceType: string,
    properties: Record<string, string>,
  ): CustomResource {
    return new CustomResource(scope, id, {
      serviceToken: this.provider.serviceToken,
      resourceType: `Custom::${resourceType}`,
      properties,
    });
  }
}
