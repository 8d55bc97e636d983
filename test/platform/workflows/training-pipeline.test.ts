/**
 * The training state machine, as synthesized for each profile, run in aws-local-stepfunctions:
 * every Task answered by a stub that validates its request against the AWS API model, every
 * branch of GateDecision and DeploymentStatus and the catch-all failure path taken once. The app is
 * the default design's; its step after a promotion (if any) is answered generically here, and tested
 * with the design.
 */
import { decide } from '../../../lambda/platform/evaluation-gate/decide';
import type { GateOutput } from '../../../lambda/platform/evaluation-gate/handler';
import { registryMetadata } from '../../../lambda/platform/evaluation-gate/registry-metadata';
import type { ProfileName } from '../../../lib/platform/config/profile';
import { DataStack } from '../../../lib/platform/stacks/data-stack';
import { MlStack } from '../../../lib/platform/stacks/ml-stack';
import { PipelineStack } from '../../../lib/platform/stacks/pipeline-stack';
import {
  afterPromotionStates,
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
} from '../../support/asl';

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

const OLD_CONFIG = 'previous-run-0b7ec9f0-5d1c-4f63-9a57-0d4b6c1e2f30';
const OLD_CHAMPION_MODEL = 'previous-run-0b7ec9f0-5d1c-4f63-9a57-0d4b6c1e2f30';
const OLD_CHALLENGER_MODEL = 'older-run-4c2a1d9e-7b3f-4e21-8c65-93a0f1b2c3d4';
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
  readonly prefix: string;
  /** The design's states between the InService branch of DeploymentStatus and the champion's record. */
  readonly afterPromotion: readonly string[];
  /** The states a run calls to train: the champion lookup where the design warm-starts, then Train. */
  readonly training: readonly string[];
  /** The calls that record a promotion before it is published. */
  readonly recording: readonly string[];
}

/** The stack of `type` among the app's stacks, however the app lists them. */
function stackOf<T>(stacks: object, type: abstract new (...args: never[]) => T): T {
  const found = Object.values(stacks).find((stack) => stack instanceof type);
  if (!found) throw new Error(`the app has no ${type.name}`);
  return found as T;
}

/** Metrics of the default design's gate: the decisive metric and the baseline's, higher is better. */
const metricsOf = (profile: ProfileName, value: number, baseline: number): Metrics => {
  const { metric, baselineMetric } = setup(profile).app.config.design.model.gate;
  return { [metric]: value, [baselineMetric]: baseline };
};
const candidateOf = (profile: ProfileName): Metrics => ({
  ...metricsOf(profile, 0.4123, 0.21),
  extra_metric: 0.33,
});
const championOf = (profile: ProfileName): Metrics => metricsOf(profile, 0.3, 0.2);

const setups = new Map<ProfileName, Setup>();

beforeAll(() => {
  for (const profile of PROFILES) {
    const app = synthesizeApp(profile);
    const pipelineStack = stackOf(app.stacks, PipelineStack);
    const data = stackOf(app.stacks, DataStack);
    const endpoint = stackOf(app.stacks, MlStack).endpoint;
    const machine = deployedStateMachine(app, pipelineStack.pipeline.stateMachine);
    setups.set(profile, {
      app,
      machine,
      endpointName: deployedValue(app, endpoint, endpoint.endpointName) as string,
      bucket: deployedValue(app, data, data.artifacts.bucket.bucketName) as string,
      topicArn: deployedValue(app, pipelineStack, pipelineStack.notifications.topicArn) as string,
      prefix: app.config.runNamePrefix,
      afterPromotion: afterPromotionStates(machine.definition),
      training: 'FindChampion' in machine.definition.States ? ['FindChampion', 'Train'] : ['Train'],
      recording:
        'RecordChampionModel' in machine.definition.States
          ? ['RecordChampionModel', 'RecordChampion']
          : ['RecordChampion'],
    });
  }
});

const setup = (profile: ProfileName): Setup => setups.get(profile) as Setup;

/** A fake AWS for one run: SageMaker, the two functions, S3 and SNS, as the scenario says. */
function fakeAws(profile: ProfileName, scenario: Scenario = {}): Record<string, Responder> {
  const { app, endpointName, afterPromotion } = setup(profile);
  const policy = app.config.design.model.gate;
  const CANDIDATE = candidateOf(profile);
  const polls = scenario.polls ?? DEPLOYED;
  let updatedTo: string | undefined;
  const now = '2025-03-14T02:00:00.000Z';
  const endpointArn = `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpointName.toLowerCase()}`;
  const responders: Record<string, Responder> = {
    // The pointer the last promotion recorded; none before the first promotion.
    FindChampion: () => {
      if (!scenario.champion)
        throw serviceError('S3.NoSuchKeyException', 'The specified key does not exist.');
      return {
        Body: JSON.stringify({
          trainingJob: OLD_CHAMPION_MODEL,
          modelDataUrl: `s3://${setup(profile).bucket}/models/${OLD_CHAMPION_MODEL}/output/model.tar.gz`,
        }),
        ContentType: 'application/json',
      };
    },
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
    RecordChampion: () => ({ ETag: '"9b2cf535f27731c974343645a3985328"', ServerSideEncryption: 'aws:kms' }),
    RecordChampionModel: () => ({
      ETag: '"1f3870be274f6c49b3e31a0c6728957f"',
      ServerSideEncryption: 'aws:kms',
    }),
    NotifyPromoted: () => ({ MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyRejected: () => ({ MessageId: '0a1b2c3d-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyFailure: () => ({ MessageId: 'f0e1d2c3-ee98-5cb9-9903-4c221d41eb5e' }),
  };
  // The design's own tasks answer as a function would; their requests are the design's to test.
  for (const state of afterPromotion) responders[state] = () => ({ step: state, ok: true });
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

  test("the default design's gate is higher-is-better, as these scenarios' numbers assume", () => {
    expect(setup(profile).app.config.design.model.gate.direction).toBe('higher-is-better');
  });

  describe('GIVEN a candidate that beats the champion and a deployment that goes InService', () => {
    let result: ExecutionResult;
    beforeAll(async () => {
      result = await run(profile, { champion: championOf(profile) });
    });

    test("THEN it trains, registers, deploys, runs the design's step, records and notifies, in that order", () => {
      expect(result.invalidRequests).toEqual([]);
      expect(result.status).toBe('SUCCEEDED');
      expect(result.entered[result.entered.length - 1]).toBe('Promoted');
      const readChampion = profile === 'production' ? ['DescribeEndpoint', 'DescribeEndpointConfig'] : [];
      expect(statesCalled(result)).toEqual([
        ...setup(profile).training,
        'Evaluate',
        'Register',
        'CreateModel',
        ...readChampion,
        'CreateEndpointConfig',
        'UpdateEndpoint',
        'PollEndpoint',
        'PollEndpoint',
        'PollEndpoint',
        ...setup(profile).afterPromotion,
        ...setup(profile).recording,
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
      const { gate } = setup(profile).app.config.design.model;
      expect(metadata).toMatchObject({
        trainingJob: jobNameOf(result),
        decision: 'promote',
        metric: gate.metric,
        direction: gate.direction,
        candidate: '0.412300',
      });
      // The gate's reason ("... the champion's 0.3000 ...") reduced to the registry's alphabet.
      expect(metadata.reason).toBe(
        `${gate.metric} 0.4123 beats the champion s 0.3000 and the baseline s 0.2100`,
      );
      expect(result.invalidRequests.filter((problem) => problem.state === 'Register')).toEqual([]);
    });

    test("THEN the champion metrics are recorded, and the promotion is published with the design's step result", () => {
      const jobName = jobNameOf(result);
      const { afterPromotion, prefix } = setup(profile);
      expect(requestOf(result, 'RecordChampion')).toMatchObject({
        Bucket: setup(profile).bucket,
        Key: 'champion/metrics.json',
        ContentType: 'application/json',
      });
      expect(JSON.parse(requestOf(result, 'RecordChampion').Body)).toEqual(candidateOf(profile));
      expect(result.published).toEqual([
        {
          state: 'NotifyPromoted',
          topicArn: setup(profile).topicArn,
          subject: `${prefix}: model promoted`,
          message: {
            trainingJob: jobName,
            gate: [
              `${setup(profile).app.config.design.model.gate.metric} 0.4123 beats the champion's 0.3000 and the baseline's 0.2100`,
            ],
            modelPackage: expect.stringMatching(
              /^arn:aws:sagemaker:us-east-1:123456789012:model-package\/.+\/7$/,
            ),
            ...(afterPromotion.length > 0
              ? { afterPromotion: { step: afterPromotion[afterPromotion.length - 1], ok: true } }
              : {}),
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

  test('WHEN there is no champion yet THEN beating the baseline promotes', async () => {
    const result = await run(profile);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.invalidRequests).toEqual([]);
    expect(requestOf(result, 'Register').CustomerMetadataProperties).toMatchObject({
      champion: 'none',
      reason: `${setup(profile).app.config.design.model.gate.metric} 0.4123 beats the baseline s 0.2100 no champion yet`,
    });
  });

  test('WHEN the gate rejects THEN the rejection is published and nothing is registered or deployed', async () => {
    const result = await run(profile, { champion: metricsOf(profile, 0.5, 0.2) });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered.slice(-3)).toEqual(['GateDecision', 'NotifyRejected', 'NotPromoted']);
    expect(statesCalled(result)).toEqual([...setup(profile).training, 'Evaluate', 'NotifyRejected']);
    expect(result.published).toEqual([
      {
        state: 'NotifyRejected',
        topicArn: setup(profile).topicArn,
        subject: `${setup(profile).prefix}: candidate rejected by the evaluation gate`,
        message: {
          trainingJob: jobNameOf(result),
          reasons: [
            `${setup(profile).app.config.design.model.gate.metric} 0.4123 does not beat the champion's 0.5000 by ${setup(profile).app.config.design.model.gate.minImprovementOverChampion}`,
          ],
        },
      },
    ]);
  });

  test('WHEN the metrics are invalid THEN the run fails with InvalidMetrics through the failure path', async () => {
    const result = await run(profile, { candidate: { extra_metric: 0.3 } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidMetrics');
    const { metric, baselineMetric } = setup(profile).app.config.design.model.gate;
    const reasons = [
      `candidate metrics lack a valid ${metric}`,
      `candidate metrics lack a valid ${baselineMetric}`,
    ];
    expect(JSON.parse(result.cause as string)).toEqual(reasons);
    expect(result.entered.slice(-5)).toEqual([
      'GateDecision',
      'InvalidMetrics',
      'RecordFailure',
      'NotifyFailure',
      'PipelineFailed',
    ]);
    expect(statesCalled(result)).toEqual([...setup(profile).training, 'Evaluate', 'NotifyFailure']);
    expect(result.published).toEqual([failureNotice(profile, 'InvalidMetrics', JSON.stringify(reasons))]);
  });

  test('WHEN a rollback alarm returns the endpoint to the old config THEN the run fails DeploymentRolledBack', async () => {
    const result = await run(profile, {
      champion: championOf(profile),
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
    for (const state of [...setup(profile).afterPromotion, ...setup(profile).recording]) {
      expect(statesCalled(result)).not.toContain(state);
    }
    expect(result.published).toEqual([
      failureNotice(profile, 'DeploymentRolledBack', result.cause as string),
    ]);
  });

  test.each(['Failed', 'OutOfService', 'UpdateRollbackFailed'])(
    'WHEN the endpoint ends %s THEN the run fails DeploymentFailed within a few polls',
    async (status) => {
      const result = await run(profile, {
        champion: championOf(profile),
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
      for (const state of setup(profile).afterPromotion) expect(statesCalled(result)).not.toContain(state);
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
    const warmStarts = setup(profile).training.includes('FindChampion');
    // Before the first promotion the lookup finds no champion, which is caught as a cold start.
    expect(result.caught).toEqual([
      ...(warmStarts ? [{ state: 'FindChampion', error: 'S3.NoSuchKeyException' }] : []),
      { state: 'Train', error: 'States.TaskFailed' },
    ]);
    const lookup = warmStarts ? ['FindChampion', 'ColdStart'] : [];
    expect(result.entered).toEqual([
      'NameRun',
      ...lookup,
      'Train',
      'RecordFailure',
      'NotifyFailure',
      'PipelineFailed',
    ]);
    expect(statesCalled(result)).toEqual([...setup(profile).training, 'NotifyFailure']);
    expect(result.published).toEqual([failureNotice(profile, 'States.TaskFailed', result.cause as string)]);
  });

  test('WHEN SageMaker, S3 and Lambda throttle THEN each task is retried and the run still promotes', async () => {
    const [designStep] = setup(profile).afterPromotion;
    const result = await run(profile, {
      champion: championOf(profile),
      throttle: {
        Evaluate: { times: 1, error: 'Lambda.TooManyRequestsException' },
        Register: { times: 2, error: 'SageMaker.ThrottlingException' },
        UpdateEndpoint: { times: 1, error: 'ThrottlingException' },
        ...(designStep ? { [designStep]: { times: 1, error: 'Lambda.TooManyRequestsException' } } : {}),
        RecordChampion: { times: 1, error: 'S3.SlowDownException' },
      },
    });
    expect(result.invalidRequests).toEqual([]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.retried).toEqual([
      { state: 'Evaluate', error: 'Lambda.TooManyRequestsException' },
      { state: 'Register', error: 'SageMaker.ThrottlingException' },
      { state: 'Register', error: 'SageMaker.ThrottlingException' },
      { state: 'UpdateEndpoint', error: 'ThrottlingException' },
      ...(designStep ? [{ state: designStep, error: 'Lambda.TooManyRequestsException' }] : []),
      { state: 'RecordChampion', error: 'S3.SlowDownException' },
    ]);
    expect(statesCalled(result).filter((state) => state === 'Register')).toHaveLength(3);
    // A retried call is sent again as it was.
    const registers = result.calls.filter((call) => call.state === 'Register');
    expect(registers[2].request).toEqual(registers[0].request);
  });

  test('WHEN throttling outlasts the retries THEN the run fails with the throttling error', async () => {
    const result = await run(profile, {
      champion: championOf(profile),
      throttle: { CreateModel: { times: 100, error: 'SageMaker.ThrottlingException' } },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('SageMaker.ThrottlingException');
    // The first call and MaxAttempts (5) retries.
    expect(statesCalled(result).filter((state) => state === 'CreateModel')).toHaveLength(6);
    expect(statesCalled(result)).not.toContain('UpdateEndpoint');
  });

  test("WHEN the design's step after a promotion fails THEN the run fails before the champion is recorded", async () => {
    const [designStep] = setup(profile).afterPromotion;
    if (!designStep) return;
    const responders = fakeAws(profile, { champion: championOf(profile) });
    responders[designStep] = () => {
      throw lambdaFunctionError('StepError', '3 of 48211 lines invalid');
    };
    const result = await runStateMachine(setup(profile).machine, {
      responders,
      executionName: 'scheduled-run-0042',
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('StepError');
    expect(JSON.parse(result.cause as string)).toMatchObject({ errorType: 'StepError' });
    expect(statesCalled(result)).not.toContain('RecordChampion');
    expect(statesCalled(result).slice(-2)).toEqual([designStep, 'NotifyFailure']);
  });
});

function failureNotice(profile: ProfileName, error: string, cause: string) {
  const { machine, topicArn } = setup(profile);
  return {
    state: 'NotifyFailure',
    topicArn,
    subject: `${setup(profile).prefix}: training pipeline failed`,
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
      { responders: fakeAws('sandbox', { champion: championOf('sandbox') }) },
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
