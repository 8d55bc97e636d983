import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { resolveAppConfig } from '../../../../lib/platform/config/app-config';
import { PrivateNetwork } from '../../../../lib/platform/constructs/network/private-network';
import { CachedRanking } from '../../../../lib/platform/constructs/serving/cached-ranking/cached-ranking';
import { metricsNamespace } from '../../../../lib/platform/stacks/serving-stack';
import { DESIGNS } from '../../../../lib/designs';
import { artistRecommender } from '../../../../lib/designs/artist-recommender/design';
import { newApp, recommenderApp } from './app';
import { ModelEndpoint } from '../../../../lib/platform/constructs/ml/model-endpoint';

describe('ServingStack: the ranking cache', () => {
  const { serving } = recommenderApp('sandbox');

  test('is ElastiCache Serverless for Valkey in the isolated subnets', () => {
    serving.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      MajorEngineVersion: '8',
      SubnetIds: [Match.anyValue(), Match.anyValue()],
      ServerlessCacheName: Match.stringLikeRegexp('^[a-z][a-z0-9-]{0,39}$'),
    });
  });

  test('caps usage in the sandbox and is deleted with it', () => {
    serving.hasResource('AWS::ElastiCache::ServerlessCache', {
      Properties: Match.objectLike({
        CacheUsageLimits: { DataStorage: { Maximum: 1, Unit: 'GB' }, ECPUPerSecond: { Maximum: 5000 } },
        SnapshotRetentionLimit: 0,
      }),
      DeletionPolicy: 'Delete',
    });
  });

  test('admits only the recommendation function and the cache loader, on the Valkey ports', () => {
    const ingress = Object.values(serving.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress.map((rule) => rule.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^RankingLoaderSecurityGroup/),
      expect.stringMatching(/^RankingServingHandlerSecurityGroup/),
    ]);
    for (const rule of ingress) {
      expect(rule.Properties).toMatchObject({ FromPort: 6379, ToPort: 6380, IpProtocol: 'tcp' });
    }
    serving.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Recommendation cache'),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }),
      ],
    });
  });
});

describe('ServingStack: the recommendation function of the Ranking construct', () => {
  const { serving, config } = recommenderApp('sandbox');

  test('runs the bundled handler on arm64 and a current Node runtime, traced, in the VPC', () => {
    serving.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      VpcConfig: { SubnetIds: [Match.anyValue(), Match.anyValue()], SecurityGroupIds: [Match.anyValue()] },
      Timeout: config.capacity.functionTimeout.toSeconds(),
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  test('is configured from the cache attributes and the derived capacity', () => {
    serving.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Serves GET /v1/users/{userId}/recommendations',
      Environment: {
        Variables: Match.objectLike({
          CACHE_HOST: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RankingCache'), 'Endpoint.Address'] },
          CACHE_PORT: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RankingCache'), 'Endpoint.Port'] },
          CACHE_COMMAND_TIMEOUT_MS: String(config.capacity.cacheCommandTimeoutMs),
          // The sandbox's serverless endpoint serves one variant, so every user is on it.
          MODEL_ENDPOINT_NAME: Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() }),
          MODEL_TOP_K: String(config.design.ranking.topK),
          SCORE_THRESHOLD: String(config.design.ranking.scoreThreshold),
          AB_VARIANTS: JSON.stringify([{ name: 'champion', weight: 1 }]),
          POWERTOOLS_METRICS_NAMESPACE: 'ArtistRecommender',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  test('may call nothing but the model endpoint, its feature flags and X-Ray', () => {
    const policies = serving.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^RankingServingHandlerFunctionServiceRole') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'appconfig:GetLatestConfiguration',
      'appconfig:StartConfigurationSession',
      'sagemaker:InvokeEndpoint',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(statements.find((s) => s.Action === 'sagemaker:InvokeEndpoint')?.Resource).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({ StackName: 'ArtistRecommender-sandbox-ml' }),
    });
  });

  test('may invoke exactly the given model endpoint and learns its variants', () => {
    // GIVEN the recommender's cached ranking wired to an endpoint with the design's two variants
    const app = newApp();
    const networkStack = new Stack(app, 'Net');
    const network = new PrivateNetwork(networkStack, 'Network', { maxAzs: 2 });
    const config = resolveAppConfig({ design: artistRecommender.id }, DESIGNS);
    const stack = new Stack(app, 'Serving');
    new CachedRanking(stack, 'Ranking', {
      servingHandler: 'artist-recommender/recommendations',
      loaderHandler: 'artist-recommender/cache-loader',
      description: 'Serves GET /v1/users/{userId}/recommendations',
      topK: artistRecommender.ranking.topK,
      scoreThreshold: artistRecommender.ranking.scoreThreshold,
      network,
      profile: config.profile,
      capacity: config.capacity,
      modelEndpoint: ModelEndpoint.fromEndpointAttributes(stack, 'Endpoint', {
        endpointName: 'recommender',
        endpointArn: 'arn:aws:sagemaker:eu-west-1:111122223333:endpoint/recommender',
        variants: artistRecommender.abVariants,
      }),
      metricsNamespace: metricsNamespace(artistRecommender.id),
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'sagemaker:InvokeEndpoint',
            Effect: 'Allow',
            Resource: 'arn:aws:sagemaker:eu-west-1:111122223333:endpoint/recommender',
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MODEL_ENDPOINT_NAME: 'recommender',
          AB_VARIANTS: JSON.stringify([
            { name: 'champion', weight: 0.9 },
            { name: 'challenger', weight: 0.1 },
          ]),
        }),
      },
    });
  });
});

describe('ServingStack: the API', () => {
  const { serving, config } = recommenderApp('sandbox');

  test('routes GET /v1/users/{userId}/recommendations to the function with IAM auth and validation', () => {
    serving.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: {
        'method.request.path.userId': true,
        'method.request.querystring.limit': false,
      },
      RequestValidatorId: { Ref: Match.stringLikeRegexp('^ApiRequestValidator') },
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
    serving.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{userId}' });
    serving.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
      ValidateRequestBody: true,
    });
  });

  test('throttles at the derived rate, traces and writes JSON access logs', () => {
    serving.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      TracingEnabled: true,
      MethodSettings: [
        Match.objectLike({
          ThrottlingRateLimit: config.capacity.apiRateLimit,
          ThrottlingBurstLimit: config.capacity.apiBurstLimit,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
      AccessLogSetting: {
        DestinationArn: {
          'Fn::Join': [
            '',
            Match.arrayWith([':log-group:', { Ref: Match.stringLikeRegexp('^ApiAccessLogs') }]),
          ],
        },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });

  test("answers API Gateway's own errors in the functions' JSON shape", () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      serving.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"error":.*"message":') },
      });
    }
  });

  test('leaves the account-wide logging role to the account stack, and deploys after it', () => {
    // GIVEN the app's stacks
    const { stacks } = recommenderApp('sandbox');
    // THEN the serving stack neither sets nor deletes the account's API Gateway CloudWatch role
    serving.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(JSON.stringify(serving.findResources('AWS::IAM::Role'))).not.toContain(
      'AmazonAPIGatewayPushToCloudWatchLogs',
    );
    // AND its stages, which log, wait for the account stack that sets it
    expect(stacks.serving.dependencies).toContain(stacks.account);
  });

  test("owns the stage's execution log group, created before the stage, deleted with the sandbox", () => {
    // GIVEN the group API Gateway writes execution logs to: API-Gateway-Execution-Logs_{rest-api-id}/{stage}
    const groups = serving.findResources('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: {
          'Fn::Join': [
            '',
            ['API-Gateway-Execution-Logs_', { Ref: Match.stringLikeRegexp('^Api[0-9A-F]{8}$') }, '/live'],
          ],
        },
      },
    });
    const [[groupId, group]] = Object.entries(groups);
    // THEN it has the profile's retention and removal policy
    expect(group).toMatchObject({ Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Delete' });
    // AND the stage waits for it, so API Gateway never creates an unexpiring one outside the stack
    serving.hasResource('AWS::ApiGateway::Stage', {
      Properties: Match.objectLike({ StageName: 'live' }),
      DependsOn: Match.arrayWith([groupId]),
    });
  });
});

describe('ServingStack in production', () => {
  const { serving, config } = recommenderApp('production');

  test('reserves the derived concurrency and lifts the sandbox caps', () => {
    serving.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: config.capacity.reservedConcurrency,
    });
    serving.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      CacheUsageLimits: Match.absent(),
      SnapshotRetentionLimit: 7,
    });
    serving.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 1250 })],
    });
  });

  test('keeps logs when the stack is destroyed, the execution log among them', () => {
    serving.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    serving.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', Match.arrayWith(['API-Gateway-Execution-Logs_'])] },
      RetentionInDays: 90,
    });
  });
});

describe('ServingStack: event ingestion', () => {
  const { serving } = recommenderApp('sandbox');

  test('POST /v1/events is validated by a schema and reaches a function outside the VPC that may only put records', () => {
    serving.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestModels: { 'application/json': { Ref: Match.stringLikeRegexp('^ApiPOSTv1eventsBody') } },
    });
    serving.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({
        required: ['events'],
        properties: { events: { type: 'array', minItems: 1, maxItems: 500 } },
      }),
    });
    serving.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Serves POST /v1/events',
      VpcConfig: Match.absent(),
      Environment: { Variables: Match.objectLike({ EVENTS_DELIVERY_STREAM: Match.anyValue() }) },
    });
    const policies = serving.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^EventsFunctionServiceRole') }] },
    });
    const actions = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap(
        (s) => s.Action,
      ),
    );
    expect(actions.sort()).toEqual([
      'firehose:PutRecord',
      'firehose:PutRecordBatch',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});
