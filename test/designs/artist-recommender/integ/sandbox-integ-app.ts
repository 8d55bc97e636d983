import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExpectedResult, IntegTest, Match, type IApiCall } from '@aws-cdk/integ-tests-alpha';
import { App, CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { RequireApproval } from 'aws-cdk-lib/cloud-assembly-schema';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { addBlueprintStacks } from '../../../../lib/platform/blueprint';
import {
  artistRecommenderStacks,
  type ArtistRecommenderStacks,
} from '../../../../lib/designs/artist-recommender/stacks';
import { resolveAppConfig, type AppConfig } from '../../../../lib/platform/config/app-config';
import { DESIGNS } from '../../../../lib/designs';
import {
  acknowledgeGrantWildcards,
  GRANT_HELPER_WILDCARDS,
} from '../../../../lib/platform/nag/acknowledge-grant-wildcards';
import { metricsNamespace } from '../../../../lib/platform/stacks/serving-stack';
import type { DriverRequest } from './driver/requests';

const ROOT = path.join(__dirname, '..', '..', '..', '..');

/** The one region the test deploys to (integ.json `regions`); the README's prices are for it. */
export const INTEG_REGION = 'us-east-1';

/** Generated data the run trains on: about 60,000 events, small enough to post in one driver call. */
export const INTEG_DATA = { users: 200, days: 14, seed: 42 } as const;

/**
 * Bounds of the waits. Each wait is one custom resource, which CloudFormation fails after an hour
 * (ServiceTimeout defaults to 3600 s and cannot be higher,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html).
 * Training gets the most: a spot job may first wait for capacity.
 */
export const WAITS = {
  delivery: { totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) },
  etl: { totalTimeout: Duration.minutes(40), interval: Duration.seconds(30) },
  training: { totalTimeout: Duration.minutes(55), interval: Duration.seconds(60) },
} as const;

/** A user of the generated data set, so the second call can hit the trained set in the cache. */
const USER = 'u1';
const SOURCES = '^(cache|model|fallback)$';
const TERMINAL = '^(SUCCEEDED|FAILED|TIMED_OUT|ABORTED)$';

export interface SandboxIntegApp {
  readonly app: App;
  readonly config: AppConfig;
  readonly stacks: ArtistRecommenderStacks;
  /** Holds the driver function and the assertions; deployed last, destroyed first. */
  readonly integStack: Stack;
  readonly integ: IntegTest;
}

/**
 * The sandbox stacks of the default design, deployed as `cdk deploy` deploys them (cdk.json's feature
 * flags, profile sandbox), plus a stack of assertions that run in order once everything is up:
 *
 * 1. an unsigned request is refused (403: the API really is IAM-authorised);
 * 2. a signed GET of a recommendation answers 200 with a `source`;
 * 3. the generated accounts are imported, 4. the generated events are posted through
 *    `POST /v1/events` (202, nothing rejected) and 5. Firehose delivers every one of them;
 * 6. the ETL runs for the day they landed on and succeeds;
 * 7. the training pipeline runs and ends `Promoted` or `NotPromoted`;
 * 8. a signed GET answers 200 with a `source` again.
 *
 * Signed calls go through a small driver function (`driver/handler.ts`) that signs with SigV4 and
 * its own role, which is granted `execute-api:Invoke` on the two routes: the request then takes the
 * path a client's does (IAM authorisation, validation, throttling, the integration). API Gateway's
 * `testInvokeMethod` would skip the method's authorisation, and invoking the functions directly
 * would skip API Gateway altogether.
 */
export function buildSandboxIntegApp(props: { outdir?: string } = {}): SandboxIntegApp {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    outdir: props.outdir,
    // cdk.json's flags win over whatever the runner passes, so the test deploys what `cdk deploy`
    // deploys. No path, asset or version metadata: the snapshot stays small and machine-independent.
    postCliContext: {
      ...cdkJson.context,
      'aws:cdk:enable-path-metadata': false,
      'aws:cdk:enable-asset-metadata': false,
      'aws:cdk:version-reporting': false,
    },
  });
  const config = resolveAppConfig({ profile: 'sandbox', design: 'artist-recommender' }, DESIGNS);
  const stacks = artistRecommenderStacks(addBlueprintStacks(app, config));
  const prefix = `${metricsNamespace(config.design.id)}-${config.profile.name}`;
  const integStack = new Stack(app, `${prefix}-Integ`, {
    stackName: `${prefix}-integ`,
    description: `${config.design.summary}: integration test driver and assertions (deleted after the run)`,
  });

  const driver = createDriver(integStack, stacks);
  const integ = new IntegTest(app, 'SandboxInteg', {
    testCases: Object.values(stacks),
    assertionStack: integStack,
    regions: [INTEG_REGION],
    // The assertions create data (events, accounts, a trained model): each run deploys from scratch.
    stackUpdateWorkflow: false,
    // Lambda code and model bundles change with every edit under lambda/ and sagemaker/: the snapshot
    // guards the infrastructure, so only template changes make it stale.
    diffAssets: false,
    cdkCommandOptions: {
      deploy: { args: { requireApproval: RequireApproval.NEVER } },
      destroy: { args: { force: true } },
    },
  });
  addAssertions(integ, integStack, stacks, driver);
  addHarnessLogGroups(integStack);
  acknowledgeHarness(integStack, driver);
  return { app, config, stacks, integStack, integ };
}

function createDriver(scope: Stack, stacks: ArtistRecommenderStacks): lambda.IFunction {
  const fn = new nodejs.NodejsFunction(scope, 'Driver', {
    description: 'Integration test: signed API calls, generated accounts and events, delivery checks',
    entry: path.join(__dirname, 'driver', 'handler.ts'),
    handler: 'handler',
    projectRoot: ROOT,
    depsLockFilePath: path.join(ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 1024,
    // The assertion provider invokes it synchronously and gives up after its own two minutes.
    timeout: Duration.seconds(100),
    bundling: { minify: true, sourceMap: true, target: 'node24', externalModules: ['@aws-sdk/*'] },
    environment: {
      API_URL: stacks.serving.api.api.url,
      RAW_BUCKET: stacks.data.rawEvents.bucket.bucketName,
      ACCOUNTS_IMPORT_FUNCTION: stacks.etl.accountsImport.function.functionName,
      NODE_OPTIONS: '--enable-source-maps',
    },
    logGroup: new logs.LogGroup(scope, 'DriverLogs', {
      retention: logs.RetentionDays.ONE_DAY,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
  });
  const api = stacks.serving.api.api;
  const stage = api.deploymentStage.stageName;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['execute-api:Invoke'],
      resources: [
        api.arnForExecuteApi('GET', '/v1/users/*/recommendations', stage),
        api.arnForExecuteApi('POST', '/v1/events', stage),
      ],
    }),
  );
  const raw = stacks.data.rawEvents.bucket;
  raw.grantRead(fn, 'raw/*');
  raw.grantPut(fn, 'accounts/*');
  stacks.etl.accountsImport.function.grantInvoke(fn);
  return fn;
}

function invokeDriver(integ: IntegTest, driver: lambda.IFunction, request: DriverRequest): IApiCall {
  return integ.assertions.invokeFunction({
    functionName: driver.functionName,
    payload: JSON.stringify(request),
  });
}

/** The driver answered (no function error) with a payload like `payload`. */
function driverAnswered(payload: Record<string, unknown>): ExpectedResult {
  // A function error answers a Payload of `{ errorType, errorMessage }`, which fails the match.
  return ExpectedResult.objectLike({
    StatusCode: 200,
    Payload: Match.serializedJson(Match.objectLike(payload)),
  });
}

function addAssertions(
  integ: IntegTest,
  stack: Stack,
  stacks: ArtistRecommenderStacks,
  driver: lambda.IFunction,
): void {
  const { assertions } = integ;
  const api = stacks.serving.api.api;

  const unsigned = assertions
    .httpApiCall(api.urlForPath(`/v1/users/${USER}/recommendations`))
    .expect(ExpectedResult.objectLike({ status: 403 }));

  const recommendation = () =>
    invokeDriver(integ, driver, { op: 'recommendations', userId: USER, limit: 5 }).expect(
      driverAnswered({ status: 200, source: Match.stringLikeRegexp(SOURCES) }),
    );
  const before = recommendation();

  const accounts = invokeDriver(integ, driver, { op: 'import-accounts', ...INTEG_DATA }).expect(
    driverAnswered({ rows: INTEG_DATA.users, badLines: 0 }),
  );
  const events = invokeDriver(integ, driver, { op: 'post-events', ...INTEG_DATA }).expect(
    driverAnswered({ failedRequests: 0, rejected: 0 }),
  );
  const delivered = invokeDriver(integ, driver, { op: 'count-delivered', ...INTEG_DATA });
  delivered.assertAtPath('Payload.missing', ExpectedResult.exact(0)).waitForAssertions(WAITS.delivery);

  const etl = runStateMachine(integ, stacks.etl.pipeline.stateMachine.stateMachineArn, WAITS.etl, {
    input: stack.toJsonString({ day: delivered.getAttString('Payload.day') }),
  });
  const etlSucceeded = assertions
    .awsApiCall('StepFunctions', 'describeExecution', { executionArn: etl.executionArn })
    .assertAtPath('status', ExpectedResult.exact('SUCCEEDED'));

  const training = runStateMachine(
    integ,
    stacks.pipeline.pipeline.stateMachine.stateMachineArn,
    WAITS.training,
  );
  // Both ends are a correct pipeline: the gate promotes a candidate that beats the champion, and
  // keeps the champion otherwise. The last events of the history name the Succeed state reached.
  const trainingEnded = assertions
    .awsApiCall('StepFunctions', 'getExecutionHistory', {
      executionArn: training.executionArn,
      reverseOrder: true,
      maxResults: 3,
      includeExecutionData: false,
    })
    .expect(
      ExpectedResult.objectLike({
        events: Match.arrayWith([
          Match.objectLike({ type: 'ExecutionSucceeded' }),
          Match.objectLike({
            type: 'SucceedStateExited',
            stateExitedEventDetails: Match.objectLike({
              name: Match.stringLikeRegexp('^(Promoted|NotPromoted)$'),
            }),
          }),
        ]),
      }),
    );
  const after = recommendation();

  chain(unsigned, before, accounts, events, delivered, etl.started, etl.ended, etlSucceeded);
  chain(etlSucceeded, training.started, training.ended, trainingEnded, after);
}

/** Starts an execution and waits until it ends, however it ends; the caller asserts how. */
function runStateMachine(
  integ: IntegTest,
  stateMachineArn: string,
  wait: (typeof WAITS)[keyof typeof WAITS],
  extra: { input?: string } = {},
): { started: IApiCall; ended: IApiCall; executionArn: string } {
  const started = integ.assertions.awsApiCall('StepFunctions', 'startExecution', {
    stateMachineArn,
    ...extra,
  });
  const executionArn = started.getAttString('executionArn');
  const ended = integ.assertions
    .awsApiCall('StepFunctions', 'describeExecution', { executionArn })
    .assertAtPath('status', ExpectedResult.stringLikeRegexp(TERMINAL))
    .waitForAssertions(wait);
  return { started, ended, executionArn };
}

function chain(...calls: IApiCall[]): void {
  for (let i = 1; i < calls.length; i++) calls[i - 1].next(calls[i]);
}

/**
 * The assertion provider functions of integ-tests-alpha log to `/aws/lambda/<name>`, a group Lambda
 * creates on first write and no stack deletes. Each gets a log group of its own here, deleted with
 * the stack, so the run leaves nothing behind. (Functions of ours, `CfnFunction`s, set their own.)
 */
function addHarnessLogGroups(stack: Stack): void {
  for (const node of stack.node.findAll()) {
    if (!(node instanceof CfnResource) || node instanceof lambda.CfnFunction) continue;
    if (node.cfnResourceType !== 'AWS::Lambda::Function') continue;
    const group = new logs.CfnLogGroup(node, 'Logs', { retentionInDays: 1 });
    group.applyRemovalPolicy(RemovalPolicy.DESTROY);
    node.addPropertyOverride('LoggingConfig.LogGroup', group.ref);
  }
}

/** cdk-nag runs over the whole app: the harness's own findings, each with its reason. */
function acknowledgeHarness(stack: Stack, driver: lambda.IFunction): void {
  acknowledgeGrantWildcards(stack, [
    ...GRANT_HELPER_WILDCARDS,
    {
      finding: /^Resource::.*\/(raw|accounts)\/\*$/,
      reason: 'The driver reads the raw events Firehose wrote and writes the accounts CSV: one prefix each.',
    },
    {
      finding: /^Resource::.*AccountsImportFunction.*:\*$/,
      reason: "grantInvoke covers the function's versions and aliases; it is one function.",
    },
    {
      finding: /^Resource::arn:<AWS::Partition>:execute-api:.*\/GET\/v1\/users\/\*\/recommendations$/,
      reason: 'Any user id on the one GET route of the API under test.',
    },
  ]);
  Validations.of(driver.role!).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The AWS managed policy grants exactly log writes for the driver function.',
  });
}
