import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ServingApiProps {
  /** Stage-wide steady-state requests per second before API Gateway answers 429. */
  readonly rateLimit: number;
  /** Stage-wide burst before API Gateway answers 429. */
  readonly burstLimit: number;
  /** @default - one week */
  readonly logRetention?: logs.RetentionDays;
  /** Applies to the access logs and to the account's API Gateway logging role. @default RemovalPolicy.RETAIN */
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
  private readonly requestValidator: apigateway.RequestValidator;

  constructor(scope: Construct, id: string, props: ServingApiProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: props.description ?? this.node.path,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway writes access and execution logs through an account-wide role; a fresh account
      // has none, and logging would fail the deploy without it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: removalPolicy,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'live',
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
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The AWS managed policy is the documented, minimal grant for API Gateway to write its logs.',
    });
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
