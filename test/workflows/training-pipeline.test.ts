/**
 * The training state machine, as synthesized for each profile, run in aws-local-stepfunctions:
 * every Task answered by a stub that validates its request against the AWS API model, every
 * branch of GateDecision and DeploymentStatus and the catch-all failure path taken once.
 */
import { decide } from '../../lambda/platform/evaluation-gate/decide';
import type { GateOutput } from '../../lambda/platform/evaluation-gate/handler';
import { registryMetadata } from '../../lambda/platform/evaluation-gate/registry-metadata';
import type { LoadSummary } from '../../lambda/artist-recommender/cache-loader/load';
import type { ProfileName } from '../../lib/platform/config/profile';
import {
  deployedStateMachine,
  deployedValue,
  lambdaFunctionError,
  runStateMachine,
  serviceError,
  StepFunctionsError,
  synthesizeApp,
  validateDefinitionStatically,
  type DeployedStateMachine,
  type ExecutionResult,
  type Responder,
  type SynthesizedApp,
} from '../support/asl';

const PROFILES: ProfileName[] = ['sandbox', 'production'];

type Metrics = Record<string, number>;

interface Scenario {
  /** metrics.json of the candidate. */
  readonly candidate?: Metrics;
  /** The champion's metrics, or undefined before the first promotion. */
  readonly champion?: Metrics;
  /** EndpointStatus / config the endpoint reports at each poll after UpdateEndpoint. */
  readonly polls?: readonly { status: string; config: 'new' | 'old' }[];
  /** The training job ends Failed. */
  readonly trainingFails?: boolean;
  /** Throttles the first N calls of a state with the given error. */
  readonly throttle?: Readonly<Record<string, { times: number; error: string }>>;
}

const CANDIDATE: Metrics = { ndcg_at_10: 0.4123, popularity_ndcg_at_10: 0.21, recall_at_10: 0.33 };
const CHAMPION: Metrics = { ndcg_at_10: 0.3, popularity_ndcg_at_10: 0.2 };
const OLD_CONFIG = 'artist-recommender-prod-0b7ec9f0-5d1c-4f63-9a57-0d4b6c1e2f30';
const OLD_CHAMPION_MODEL = 'artist-recommender-prod-0b7ec9f0-5d1c-4f63-9a57-0d4b6c1e2f30';
const OLD_CHALLENGER_MODEL = 'artist-recommender-prod-4c2a1d9e-7b3f-4e21-8c65-93a0f1b2c3d4';
const DEPLOYED = [
  { status: 'Updating', config: 'old' },
  { status: 'Updating', config: 'old' },
  { status: 'InService', config: 'new' },
] as const;

interface Setup {
  readonly app: SynthesizedApp;
  readonly machine: DeployedStateMachine;
  readonly endpointName: string;
  readonly bucket: string;
  readonly topicArn: string;
}

const setups = new Map<ProfileName, Setup>();

beforeAll(() => {
  for (const profile of PROFILES) {
    const app = synthesizeApp(profile);
    const { pipeline } = app.stacks.pipeline;
    const endpoint = app.stacks.ml.endpoint;
    setups.set(profile, {
      app,
      machine: deployedStateMachine(app, pipeline.stateMachine),
      endpointName: deployedValue(app, endpoint, endpoint.endpointName) as string,
      bucket: deployedValue(app, app.stacks.data, app.stacks.data.artifacts.bucket.bucketName) as string,
      topicArn: deployedValue(app, app.stacks.pipeline, app.stacks.pipeline.notifications.topicArn) as string,
    });
  }
});

const setup = (profile: ProfileName): Setup => setups.get(profile) as Setup;

/** A fake AWS for one run: SageMaker, the two functions, S3 and SNS, as the scenario says. */
function fakeAws(profile: ProfileName, scenario: Scenario = {}): Record<string, Responder> {
  const { app, endpointName } = setup(profile);
  const policy = app.config.design.model.gate;
  const polls = scenario.polls ?? DEPLOYED;
  let updatedTo: string | undefined;
  const now = '2025-03-14T02:00:00.000Z';
  const endpointArn = `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpointName.toLowerCase()}`;
  const responders: Record<string, Responder> = {
    Train: (request) => {
      const described = {
        TrainingJobName: request.TrainingJobName,
        TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${request.TrainingJobName}`,
        RoleArn: request.RoleArn,
        AlgorithmSpecification: request.AlgorithmSpecification,
        ResourceConfig: request.ResourceConfig,
        StoppingCondition: request.StoppingCondition,
        CreationTime: now,
        LastModifiedTime: now,
      };
      if (scenario.trainingFails) {
        // A `.sync` job that ends Failed fails the task with the job's description as the cause.
        throw new StepFunctionsError(
          'States.TaskFailed',
          JSON.stringify({
            ...described,
            TrainingJobStatus: 'Failed',
            SecondaryStatus: 'Failed',
            FailureReason: 'AlgorithmError: ExecuteUserScriptError: CUDA out of memory',
          }),
        );
      }
      return {
        ...described,
        TrainingJobStatus: 'Completed',
        SecondaryStatus: 'Completed',
        ModelArtifacts: {
          S3ModelArtifacts: `${request.OutputDataConfig.S3OutputPath}${request.TrainingJobName}/output/model.tar.gz`,
        },
        BillableTimeInSeconds: 1843,
        TrainingTimeInSeconds: 1843,
        FinalMetricDataList: Object.entries(scenario.candidate ?? CANDIDATE).map(([MetricName, Value]) => ({
          MetricName,
          Value,
          Timestamp: now,
        })),
      };
    },
    // The gate's own decision and registry metadata, on the scenario's metrics.
    Evaluate: (request): GateOutput => {
      const event = JSON.parse(request.Payload) as { trainingJob?: string };
      const candidateMetrics = scenario.candidate ?? CANDIDATE;
      const result = decide(candidateMetrics, scenario.champion, policy);
      return { ...result, candidateMetrics, registryMetadata: registryMetadata(result, event.trainingJob) };
    },
    Register: (request) => ({
      ModelPackageArn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${String(request.ModelPackageGroupName).toLowerCase()}/7`,
    }),
    CreateModel: (request) => ({
      ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${request.ModelName}`,
    }),
    DescribeEndpoint: (request) => ({
      EndpointName: request.EndpointName,
      EndpointArn: endpointArn,
      EndpointConfigName: OLD_CONFIG,
      EndpointStatus: 'InService',
      CreationTime: now,
      LastModifiedTime: now,
    }),
    DescribeEndpointConfig: (request) => ({
      EndpointConfigName: request.EndpointConfigName,
      EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${request.EndpointConfigName}`,
      ProductionVariants: [
        { VariantName: 'champion', ModelName: OLD_CHAMPION_MODEL, InitialVariantWeight: 0.9 },
        { VariantName: 'challenger', ModelName: OLD_CHALLENGER_MODEL, InitialVariantWeight: 0.1 },
      ],
      CreationTime: now,
    }),
    CreateEndpointConfig: (request) => ({
      EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${request.EndpointConfigName}`,
    }),
    UpdateEndpoint: (request) => {
      updatedTo = request.EndpointConfigName;
      return { EndpointArn: endpointArn };
    },
    PollEndpoint: (request, call) => {
      if (updatedTo === undefined) throw new Error('polled before UpdateEndpoint');
      const poll = polls[Math.min(call.attempt, polls.length) - 1];
      return {
        EndpointName: request.EndpointName,
        EndpointArn: endpointArn,
        EndpointConfigName: poll.config === 'new' ? updatedTo : OLD_CONFIG,
        EndpointStatus: poll.status,
        ...(poll.status === 'Failed' || poll.status === 'UpdateRollbackFailed'
          ? {
              FailureReason:
                'Request to service failed. If failure persists after retry, contact customer support.',
            }
          : {}),
        CreationTime: now,
        LastModifiedTime: now,
      };
    },
    LoadCache: (): LoadSummary => ({
      version: 'v20250314T020000Z',
      previousVersion: 'v20250307T020000Z',
      users: 48_211,
      usersWithoutItems: 12,
      badLines: 0,
      badLineSamples: [],
      swapped: true,
      expiredKeys: 48_190,
      seconds: 41.7,
    }),
    RecordChampion: () => ({ ETag: '"9b2cf535f27731c974343645a3985328"', ServerSideEncryption: 'aws:kms' }),
    NotifyPromoted: () => ({ MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyRejected: () => ({ MessageId: '0a1b2c3d-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyFailure: () => ({ MessageId: 'f0e1d2c3-ee98-5cb9-9903-4c221d41eb5e' }),
  };
  for (const [state, { times, error }] of Object.entries(scenario.throttle ?? {})) {
    const respond = responders[state];
    responders[state] = (request, call) => {
      if (call.attempt <= times) {
        throw serviceError(error);
      }
      return respond(request, call);
    };
  }
  return responders;
}

async function run(profile: ProfileName, scenario: Scenario = {}): Promise<ExecutionResult> {
  const result = await runStateMachine(setup(profile).machine, {
    responders: fakeAws(profile, scenario),
    executionName: 'scheduled-run-0042',
    maxCalls: 60,
  });
  expect(result.harnessErrors).toEqual([]);
  expect(result.invalidResponses).toEqual([]);
  return result;
}

const statesCalled = (result: ExecutionResult): string[] => result.calls.map((call) => call.state);
const requestOf = (result: ExecutionResult, state: string) => {
  const call = result.calls.find((candidate) => candidate.state === state);
  if (!call) throw new Error(`${state} was not called; calls: ${statesCalled(result).join(', ')}`);
  return call.request;
};
const payloadOf = (result: ExecutionResult, state: string) => JSON.parse(requestOf(result, state).Payload);
const jobNameOf = (result: ExecutionResult): string => requestOf(result, 'Train').TrainingJobName;

describe.each(PROFILES)('training pipeline (%s)', (profile) => {
  test('every Task parameter block matches its API model, on every branch', () => {
    expect(validateDefinitionStatically(setup(profile).machine.definition)).toEqual([]);
  });

  describe('GIVEN a candidate that beats the champion and a deployment that goes InService', () => {
    let result: ExecutionResult;
    beforeAll(async () => {
      result = await run(profile, { champion: CHAMPION });
    });

    test('THEN it trains, registers, deploys, loads the cache, records and notifies, in that order', () => {
      expect(result.invalidRequests).toEqual([]);
      expect(result.status).toBe('SUCCEEDED');
      expect(result.entered[result.entered.length - 1]).toBe('Promoted');
      const readChampion = profile === 'production' ? ['DescribeEndpoint', 'DescribeEndpointConfig'] : [];
      expect(statesCalled(result)).toEqual([
        'Train',
        'Evaluate',
        'Register',
        'CreateModel',
        ...readChampion,
        'CreateEndpointConfig',
        'UpdateEndpoint',
        'PollEndpoint',
        'PollEndpoint',
        'PollEndpoint',
        'LoadCache',
        'RecordChampion',
        'NotifyPromoted',
      ]);
      // One Wait before each poll.
      expect(result.entered.filter((state) => state === 'WaitForDeployment')).toHaveLength(3);
    });

    test('THEN the job, model, endpoint config and package all carry the run name', () => {
      const jobName = jobNameOf(result);
      expect(jobName).toMatch(
        /^[a-z][a-z0-9-]*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(payloadOf(result, 'Evaluate')).toEqual({
        bucket: setup(profile).bucket,
        trainingJob: jobName,
        candidateOutputKey: `models/${jobName}/output/output.tar.gz`,
        championMetricsKey: 'champion/metrics.json',
      });
      const modelDataUrl = `s3://${setup(profile).bucket}/models/${jobName}/output/model.tar.gz`;
      expect(requestOf(result, 'Register').InferenceSpecification.Containers[0].ModelDataUrl).toBe(
        modelDataUrl,
      );
      expect(requestOf(result, 'Register').ModelPackageDescription).toBe(`Training job ${jobName}`);
      expect(requestOf(result, 'CreateModel')).toMatchObject({
        ModelName: jobName,
        PrimaryContainer: { ModelDataUrl: modelDataUrl },
      });
      expect(requestOf(result, 'CreateEndpointConfig').EndpointConfigName).toBe(jobName);
      expect(requestOf(result, 'CreateEndpointConfig').ProductionVariants[0]).toMatchObject({
        VariantName: 'champion',
        ModelName: jobName,
      });
      for (const state of ['UpdateEndpoint', 'PollEndpoint']) {
        expect(requestOf(result, state).EndpointName).toBe(setup(profile).endpointName);
      }
      expect(requestOf(result, 'UpdateEndpoint').EndpointConfigName).toBe(jobName);
    });

    test("THEN the package's CustomerMetadataProperties are the gate's registry metadata, within the model's pattern", () => {
      const metadata = requestOf(result, 'Register').CustomerMetadataProperties;
      expect(metadata).toMatchObject({
        trainingJob: jobNameOf(result),
        decision: 'promote',
        candidate: '0.412300',
      });
      // The gate's reason ("... the champion's 0.3000 ...") reduced to the registry's alphabet.
      expect(metadata.reason).toMatch(
        /^ndcg_at_10 0\.4123 beats the champion s 0\.3000 and popularity 0\.2100$/,
      );
      expect(result.invalidRequests.filter((problem) => problem.state === 'Register')).toEqual([]);
    });

    test('THEN the cache loads the new archive, the champion metrics are recorded, and the promotion is published', () => {
      const jobName = jobNameOf(result);
      expect(payloadOf(result, 'LoadCache')).toEqual({
        bucket: setup(profile).bucket,
        archiveKey: `models/${jobName}/output/output.tar.gz`,
        recommendationsMember: 'recommendations.jsonl',
        popularityMember: 'popularity.json',
        variant: 'champion',
      });
      expect(requestOf(result, 'RecordChampion')).toMatchObject({
        Bucket: setup(profile).bucket,
        Key: 'champion/metrics.json',
        ContentType: 'application/json',
      });
      expect(JSON.parse(requestOf(result, 'RecordChampion').Body)).toEqual(CANDIDATE);
      expect(result.published).toEqual([
        {
          state: 'NotifyPromoted',
          topicArn: setup(profile).topicArn,
          subject: 'Recommender model promoted',
          message: {
            trainingJob: jobName,
            gate: ["ndcg_at_10 0.4123 beats the champion's 0.3000 and popularity 0.2100"],
            modelPackage: expect.stringMatching(
              /^arn:aws:sagemaker:us-east-1:123456789012:model-package\/.+\/7$/,
            ),
            cacheLoad: expect.objectContaining({ version: 'v20250314T020000Z', swapped: true }),
          },
        },
      ]);
    });

    if (profile === 'production') {
      test('THEN the old champion becomes the challenger of the new config, captured as the first one', () => {
        expect(requestOf(result, 'DescribeEndpointConfig')).toEqual({ EndpointConfigName: OLD_CONFIG });
        const config = requestOf(result, 'CreateEndpointConfig');
        expect(config.ProductionVariants).toEqual([
          expect.objectContaining({
            VariantName: 'champion',
            ModelName: jobNameOf(result),
            InitialVariantWeight: 0.9,
          }),
          expect.objectContaining({
            VariantName: 'challenger',
            ModelName: OLD_CHAMPION_MODEL,
            InitialVariantWeight: 0.1,
          }),
        ]);
        expect(config.DataCaptureConfig).toMatchObject({
          EnableCapture: true,
          DestinationS3Uri: expect.stringMatching(/^s3:\/\//),
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        });
      });

      test('THEN UpdateEndpoint deploys blue/green with auto-rollback, in API casing, keeping scaled capacity', () => {
        const update = requestOf(result, 'UpdateEndpoint');
        expect(update.DeploymentConfig).toMatchObject({
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } },
          },
          AutoRollbackConfiguration: { Alarms: expect.arrayContaining([{ AlarmName: expect.any(String) }]) },
        });
        expect(update.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(4);
        expect(update.RetainAllVariantProperties).toBe(true);
      });
    } else {
      test('THEN the single serverless variant is replaced, with no challenger to read first', () => {
        const config = requestOf(result, 'CreateEndpointConfig');
        expect(config.ProductionVariants).toEqual([
          expect.objectContaining({ VariantName: 'champion', ServerlessConfig: expect.any(Object) }),
        ]);
        expect(statesCalled(result)).not.toContain('DescribeEndpoint');
        expect(requestOf(result, 'UpdateEndpoint').DeploymentConfig).toBeUndefined();
      });
    }
  });

  test('WHEN there is no champion yet THEN beating the popularity baseline promotes', async () => {
    const result = await run(profile);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.invalidRequests).toEqual([]);
    expect(requestOf(result, 'Register').CustomerMetadataProperties).toMatchObject({
      champion: 'none',
      reason: 'ndcg_at_10 0.4123 beats popularity 0.2100 no champion yet',
    });
  });

  test('WHEN the gate rejects THEN the rejection is published and nothing is registered or deployed', async () => {
    const result = await run(profile, { champion: { ndcg_at_10: 0.5, popularity_ndcg_at_10: 0.2 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered.slice(-3)).toEqual(['GateDecision', 'NotifyRejected', 'NotPromoted']);
    expect(statesCalled(result)).toEqual(['Train', 'Evaluate', 'NotifyRejected']);
    expect(result.published).toEqual([
      {
        state: 'NotifyRejected',
        topicArn: setup(profile).topicArn,
        subject: 'Recommender candidate rejected by the evaluation gate',
        message: {
          trainingJob: jobNameOf(result),
          reasons: [
            `ndcg_at_10 0.4123 does not beat the champion's 0.5000 by ${setup(profile).app.config.design.model.gate.minImprovementOverChampion}`,
          ],
        },
      },
    ]);
  });

  test('WHEN the metrics are invalid THEN the run fails with InvalidMetrics through the failure path', async () => {
    const result = await run(profile, { candidate: { recall_at_10: 0.3 } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidMetrics');
    const reasons = [
      'candidate metrics lack a valid ndcg_at_10',
      'candidate metrics lack a valid popularity_ndcg_at_10',
    ];
    expect(JSON.parse(result.cause as string)).toEqual(reasons);
    expect(result.entered.slice(-5)).toEqual([
      'GateDecision',
      'InvalidMetrics',
      'RecordFailure',
      'NotifyFailure',
      'PipelineFailed',
    ]);
    expect(statesCalled(result)).toEqual(['Train', 'Evaluate', 'NotifyFailure']);
    expect(result.published).toEqual([failureNotice(profile, 'InvalidMetrics', JSON.stringify(reasons))]);
  });

  test('WHEN a rollback alarm returns the endpoint to the old config THEN the run fails DeploymentRolledBack', async () => {
    const result = await run(profile, {
      champion: CHAMPION,
      polls: [
        { status: 'Updating', config: 'old' },
        { status: 'RollingBack', config: 'old' },
        { status: 'InService', config: 'old' },
      ],
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('DeploymentRolledBack');
    expect(result.cause).toBe(
      `Endpoint serves ${OLD_CONFIG} instead of ${jobNameOf(result)}: a rollback alarm fired`,
    );
    expect(statesCalled(result)).not.toContain('LoadCache');
    expect(statesCalled(result)).not.toContain('RecordChampion');
    expect(result.published).toEqual([
      failureNotice(profile, 'DeploymentRolledBack', result.cause as string),
    ]);
  });

  test.each(['Failed', 'OutOfService', 'UpdateRollbackFailed'])(
    'WHEN the endpoint ends %s THEN the run fails DeploymentFailed within a few polls',
    async (status) => {
      const result = await run(profile, {
        champion: CHAMPION,
        polls: [
          { status: 'Updating', config: 'old' },
          ...(status === 'UpdateRollbackFailed' ? [{ status: 'RollingBack', config: 'old' } as const] : []),
          // SageMaker keeps reporting the terminal status: a loop that waits on it never ends.
          { status, config: 'old' },
        ],
      });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('DeploymentFailed');
      expect(result.cause).toBe(`Endpoint status ${status}`);
      expect(statesCalled(result).filter((state) => state === 'PollEndpoint').length).toBeLessThanOrEqual(3);
      expect(statesCalled(result)).not.toContain('LoadCache');
      expect(result.published).toEqual([
        failureNotice(profile, 'DeploymentFailed', `Endpoint status ${status}`),
      ]);
    },
  );

  test('WHEN the training job fails THEN the failure path records its error and cause and notifies', async () => {
    const result = await run(profile, { trainingFails: true });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.TaskFailed');
    expect(JSON.parse(result.cause as string)).toMatchObject({
      TrainingJobStatus: 'Failed',
      FailureReason: expect.stringContaining('CUDA out of memory'),
    });
    expect(result.caught).toEqual([{ state: 'Train', error: 'States.TaskFailed' }]);
    expect(result.entered).toEqual(['NameRun', 'Train', 'RecordFailure', 'NotifyFailure', 'PipelineFailed']);
    expect(statesCalled(result)).toEqual(['Train', 'NotifyFailure']);
    expect(result.published).toEqual([failureNotice(profile, 'States.TaskFailed', result.cause as string)]);
  });

  test('WHEN SageMaker, S3 and Lambda throttle THEN each task is retried and the run still promotes', async () => {
    const result = await run(profile, {
      champion: CHAMPION,
      throttle: {
        Register: { times: 2, error: 'SageMaker.ThrottlingException' },
        UpdateEndpoint: { times: 1, error: 'ThrottlingException' },
        LoadCache: { times: 1, error: 'Lambda.TooManyRequestsException' },
        RecordChampion: { times: 1, error: 'S3.SlowDownException' },
      },
    });
    expect(result.invalidRequests).toEqual([]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.retried).toEqual([
      { state: 'Register', error: 'SageMaker.ThrottlingException' },
      { state: 'Register', error: 'SageMaker.ThrottlingException' },
      { state: 'UpdateEndpoint', error: 'ThrottlingException' },
      { state: 'LoadCache', error: 'Lambda.TooManyRequestsException' },
      { state: 'RecordChampion', error: 'S3.SlowDownException' },
    ]);
    expect(statesCalled(result).filter((state) => state === 'Register')).toHaveLength(3);
    // A retried call is sent again as it was.
    const registers = result.calls.filter((call) => call.state === 'Register');
    expect(registers[2].request).toEqual(registers[0].request);
  });

  test('WHEN throttling outlasts the retries THEN the run fails with the throttling error', async () => {
    const result = await run(profile, {
      champion: CHAMPION,
      throttle: { CreateModel: { times: 100, error: 'SageMaker.ThrottlingException' } },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('SageMaker.ThrottlingException');
    // The first call and MaxAttempts (5) retries.
    expect(statesCalled(result).filter((state) => state === 'CreateModel')).toHaveLength(6);
    expect(statesCalled(result)).not.toContain('UpdateEndpoint');
  });

  test('WHEN the cache load fails in the function THEN the run fails before the champion is recorded', async () => {
    const responders = fakeAws(profile, { champion: CHAMPION });
    responders.LoadCache = () => {
      throw lambdaFunctionError('CacheLoadError', 'recommendations.jsonl: 3 of 48211 lines invalid');
    };
    const result = await runStateMachine(setup(profile).machine, {
      responders,
      executionName: 'scheduled-run-0042',
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('CacheLoadError');
    expect(JSON.parse(result.cause as string)).toMatchObject({ errorType: 'CacheLoadError' });
    expect(statesCalled(result)).not.toContain('RecordChampion');
    expect(statesCalled(result).slice(-2)).toEqual(['LoadCache', 'NotifyFailure']);
  });
});

function failureNotice(profile: ProfileName, error: string, cause: string) {
  const { machine, topicArn } = setup(profile);
  return {
    state: 'NotifyFailure',
    topicArn,
    subject: 'Recommender training pipeline failed',
    message: {
      error,
      cause,
      execution: `arn:aws:states:us-east-1:123456789012:execution:${machine.name}:scheduled-run-0042`,
    },
  };
}

describe('the harness', () => {
  test('reports a parameter in CloudFormation casing, as the API model would reject it', () => {
    const { machine } = setup('production');
    const definition = JSON.parse(JSON.stringify(machine.definition)) as DeployedStateMachine['definition'];
    const update = definition.States.UpdateEndpoint as unknown as { Parameters: Record<string, unknown> };
    update.Parameters.DeploymentConfig = { blueGreenUpdatePolicy: { terminationWaitInSeconds: 300 } };
    expect(validateDefinitionStatically(definition)).toEqual([
      expect.objectContaining({ state: 'UpdateEndpoint', service: 'sagemaker', operation: 'UpdateEndpoint' }),
    ]);
  });

  test('fails a run whose request breaks the API model at run time (a free-text reason as package metadata)', async () => {
    const { machine } = setup('sandbox');
    const definition = JSON.parse(JSON.stringify(machine.definition)) as DeployedStateMachine['definition'];
    const register = definition.States.Register as unknown as { Parameters: Record<string, unknown> };
    delete register.Parameters['CustomerMetadataProperties.$'];
    register.Parameters.CustomerMetadataProperties = { 'gate.$': 'States.ArrayGetItem($.gate.reasons, 0)' };
    const result = await runStateMachine(
      { ...machine, definition },
      { responders: fakeAws('sandbox', { champion: CHAMPION }) },
    );
    expect(result.invalidRequests).toEqual([
      expect.objectContaining({
        state: 'Register',
        problems: [expect.objectContaining({ path: expect.stringContaining('CustomerMetadataProperties') })],
      }),
    ]);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('SageMaker.ValidationException');
  });
});
