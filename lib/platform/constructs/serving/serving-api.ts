import { Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The one stage callers use; a literal, since the execution log group's name is built from it. */
const STAGE_NAME = 'live';

export interface ServingApiProps {
  /** Stage-wide steady-state requests per second before API Gateway answers 429. */
  readonly rateLimit: number;
  /** Stage-wide burst before API Gateway answers 429. */
  readonly burstLimit: number;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** What `cdk destroy` does to the access and execution logs. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default - the construct path */
  readonly description?: string;
}

export interface FunctionRouteOptions {
  /** Path parameters that must be present, e.g. `['userId']`. @default - none */
  readonly pathParameters?: readonly string[];
  /** Query string parameters the method accepts, and whether each is required. @default - none */
  readonly queryParameters?: Readonly<Record<string, boolean>>;
  /**
   * JSON schema API Gateway checks the body against before the function runs; the function still
   * validates every field and says which one is wrong.
   * @default - the body is not checked
   */
  readonly bodySchema?: apigateway.JsonSchema;
}

/**
 * A regional REST API that callers reach with SigV4 (IAM) credentials: no secret to hand out, no
 * charge while idle. Every method is throttled, validated, traced and access-logged; API Gateway's
 * own errors (throttling, denied, bad request) answer with the same JSON shape as the functions.
 */
export class ServingApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly accessLogs: logs.LogGroup;
  /** The stage's execution log, which API Gateway would otherwise create with no expiry, outside the stack. */
  public readonly executionLogs: logs.LogGroup;
  private readonly requestValidator: apigateway.RequestValidator;

  constructor(scope: Construct, id: string, props: ServingApiProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      // API Gateway publishes metrics per API name and stage: a name unique to the construct path
      // (so to the design and profile) keeps two deployments in one account from sharing metrics.
      restApiName: Names.uniqueResourceName(this, { maxLength: 128 }),
      description: props.description ?? this.node.path,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway writes access and execution logs through the account's CloudWatch role
      // (AWS::ApiGateway::Account), one setting per account and region that every API shares. It
      // is not this API's to create or delete: AccountStack (lib/stacks/account-stack.ts) sets it.
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    // API Gateway writes execution logs to API-Gateway-Execution-Logs_{rest-api-id}/{stage-name},
    // creating the group on first write if it does not exist
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html). Created here
    // before the stage, it carries the profile's retention and goes with the stack; the API id makes
    // the name unique to this API, so a retained group never collides with a later deployment's.
    this.executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${STAGE_NAME}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy,
    });
    this.api.deploymentStage.node.defaultChild!.node.addDependency(this.executionLogs);

    // Validates parameters, and bodies of methods that declare a model.
    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    for (const [id, type] of [
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(id, {
        type,
        templates: {
          'application/json':
            '{"error":"$context.error.responseType","message":$context.error.messageString,"requestId":"$context.requestId"}',
        },
      });
    }

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers authenticate with IAM (SigV4); a Cognito user pool would add a second identity system.',
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'IAM authorization and stage throttling bound abuse; a WAF web ACL costs ~$6/month idle per API and is left to production accounts that front the API with their own ACLs.',
    });
  }

  /** Routes `method path` to `fn`, creating the path's resources on the way. */
  public addFunctionRoute(
    method: string,
    resourcePath: string,
    fn: lambda.IFunction,
    options: FunctionRouteOptions = {},
  ): apigateway.Method {
    const resource = this.api.root.resourceForPath(resourcePath);
    const requestParameters: Record<string, boolean> = {};
    for (const name of options.pathParameters ?? []) requestParameters[`method.request.path.${name}`] = true;
    for (const [name, required] of Object.entries(options.queryParameters ?? {})) {
      requestParameters[`method.request.querystring.${name}`] = required;
    }
    const model = options.bodySchema
      ? this.api.addModel(`${method}${resourcePath.replace(/[^A-Za-z0-9]/g, '')}Body`, {
          contentType: 'application/json',
          schema: options.bodySchema,
        })
      : undefined;
    return resource.addMethod(method, new apigateway.LambdaIntegration(fn), {
      requestParameters,
      requestValidator: this.requestValidator,
      requestModels: model ? { 'application/json': model } : undefined,
    });
  }

  /** URL of a path on the deployed stage. */
  public urlForPath(resourcePath: string): string {
    return this.api.urlForPath(resourcePath);
  }
}
