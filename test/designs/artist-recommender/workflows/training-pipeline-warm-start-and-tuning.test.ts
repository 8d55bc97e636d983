/**
 * Warm starts and automatic model tuning in the training state machine, run in
 * aws-local-stepfunctions with every Task answered by a stub validated against the AWS API model:
 * the recommender's scheduled retrain with and without a recorded champion, and the same design
 * with `tuning: { mode: 'sagemaker' }` in production, where a tuning job's best trial becomes the
 * candidate. A bad search space or tuning setting fails synth, naming the field.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decide } from '../../../../lambda/platform/evaluation-gate/decide';
import type { GateOutput } from '../../../../lambda/platform/evaluation-gate/handler';
import { registryMetadata } from '../../../../lambda/platform/evaluation-gate/registry-metadata';
import { artistRecommender } from '../../../../lib/designs/artist-recommender/design';
import type { Design, ModelTuning } from '../../../../lib/platform/config/design';
import type { ProfileName } from '../../../../lib/platform/config/profile';
import { TemplateSet } from '../../../../lib/platform/rules/core/templates';
import { DataStack } from '../../../../lib/platform/stacks/data-stack';
import { PipelineStack } from '../../../../lib/platform/stacks/pipeline-stack';
import {
  afterPromotionStates,
  endpointRollOut,
  deployedStateMachine,
  deployedValue,
  runStateMachine,
  serviceError,
  synthesizeApp,
  validateDefinitionStatically,
  type DeployedStateMachine,
  type ExecutionResult,
  type Responder,
  type SynthesizedApp,
} from '../../../support/asl';
import { missingForStateMachines } from '../../../support/iam/requirements';

const SEARCH_SPACE = path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'sagemaker',
  'artist_recommender',
  'search_space.json',
);
const NOW = '2025-03-14T02:00:00.000Z';
const OLD_CHAMPION_JOB = 'artist-recommender-prod-0b7ec9f0-5d1c-4f63-9a57-0d4b6c1e2f30';

/** The recommender with its model changed, registered alone. */
function recommenderWith(model: Partial<Design['model']>): Record<string, Design> {
  const design = { ...artistRecommender, model: { ...artistRecommender.model, ...model } };
  return { [design.id]: { ...design, addStacks: (app, config) => artistRecommender.addStacks(app, config) } };
}

const sagemakerTuning = (
  overrides: Partial<Extract<ModelTuning, { mode: 'sagemaker' }>> = {},
): ModelTuning => ({
  mode: 'sagemaker',
  searchSpace: SEARCH_SPACE,
  maxJobs: 6,
  maxParallelJobs: 2,
  strategy: 'Bayesian',
  ...overrides,
});

interface Setup {
  readonly app: SynthesizedApp;
  readonly machine: DeployedStateMachine;
  readonly bucket: string;
}

function setupOf(app: SynthesizedApp): Setup {
  const pipeline = app.stack(PipelineStack);
  const data = app.stack(DataStack);
  return {
    app,
    machine: deployedStateMachine(app, pipeline.pipeline.stateMachine),
    bucket: deployedValue(app, data, data.artifacts.bucket.bucketName) as string,
  };
}

/** A request as the harness records it: the API's JSON. */
type ApiRequest = Parameters<Responder>[0];

const trainingJobDescription = (request: ApiRequest, name: string) => ({
  TrainingJobName: name,
  TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`,
  RoleArn: request.RoleArn,
  AlgorithmSpecification: request.AlgorithmSpecification,
  ResourceConfig: request.ResourceConfig,
  StoppingCondition: request.StoppingCondition,
  CreationTime: NOW,
  LastModifiedTime: NOW,
  TrainingJobStatus: 'Completed',
  SecondaryStatus: 'Completed',
  ModelArtifacts: { S3ModelArtifacts: `${request.OutputDataConfig.S3OutputPath}${name}/output/model.tar.gz` },
  BillableTimeInSeconds: 1843,
});

/** A fake AWS for one promoting run; `champion` is what the last promotion recorded, if any. */
function fakeAws(
  setup: Setup,
  champion?: { metrics: Record<string, number>; job: string },
): Record<string, Responder> {
  const { app, machine, bucket } = setup;
  const policy = app.config.design.model.gate;
  const candidate = { [policy.metric]: 0.41, [policy.baselineMetric]: 0.2 };
  const endpointArn = 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/recommender';
  let tuningRequest: ApiRequest = {};
  const responders: Record<string, Responder> = {
    FindChampion: () => {
      if (!champion) throw serviceError('S3.NoSuchKeyException', 'The specified key does not exist.');
      return {
        Body: JSON.stringify({
          trainingJob: champion.job,
          modelDataUrl: `s3://${bucket}/models/${champion.job}/output/model.tar.gz`,
        }),
        ContentType: 'application/json',
      };
    },
    Train: (request) => trainingJobDescription(request, request.TrainingJobName),
    Tune: (request) => {
      tuningRequest = request;
      const name = request.HyperParameterTuningJobName;
      return {
        HyperParameterTuningJobName: name,
        HyperParameterTuningJobArn: `arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/${name}`,
        HyperParameterTuningJobConfig: request.HyperParameterTuningJobConfig,
        TrainingJobDefinition: request.TrainingJobDefinition,
        HyperParameterTuningJobStatus: 'Completed',
        CreationTime: NOW,
        TrainingJobStatusCounters: {
          Completed: 6,
          InProgress: 0,
          RetryableError: 0,
          NonRetryableError: 0,
          Stopped: 0,
        },
        ObjectiveStatusCounters: { Succeeded: 6, Pending: 0, Failed: 0 },
        BestTrainingJob: {
          TrainingJobName: `${name}-004-8f3a2b1c`,
          TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}-004-8f3a2b1c`,
          CreationTime: NOW,
          TrainingJobStatus: 'Completed',
          TunedHyperParameters: { reg: '41.7', factors: '96' },
          FinalHyperParameterTuningJobObjectiveMetric: {
            Type: 'Maximize',
            MetricName: policy.metric,
            Value: 0.41,
          },
        },
      };
    },
    DescribeBestTrainingJob: (request) =>
      trainingJobDescription(
        { ...tuningRequest.TrainingJobDefinition, AlgorithmSpecification: { TrainingInputMode: 'File' } },
        request.TrainingJobName,
      ),
    Evaluate: (request): GateOutput => {
      const event = JSON.parse(request.Payload) as { trainingJob?: string };
      const result = decide(candidate, champion?.metrics, policy);
      return {
        ...result,
        candidateMetrics: candidate,
        registryMetadata: registryMetadata(result, event.trainingJob),
      };
    },
    Register: (request) => ({
      ModelPackageArn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${String(request.ModelPackageGroupName).toLowerCase()}/3`,
    }),
    CreateModel: (request) => ({
      ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${request.ModelName}`,
    }),
    DescribeEndpoint: (request) => ({
      EndpointName: request.EndpointName,
      EndpointArn: endpointArn,
      EndpointConfigName: 'previous-config',
      EndpointStatus: 'InService',
      CreationTime: NOW,
      LastModifiedTime: NOW,
    }),
    DescribeEndpointConfig: (request) => ({
      EndpointConfigName: request.EndpointConfigName,
      EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${request.EndpointConfigName}`,
      ProductionVariants: [
        { VariantName: 'champion', ModelName: OLD_CHAMPION_JOB, InitialVariantWeight: 0.9 },
        { VariantName: 'challenger', ModelName: 'older-model', InitialVariantWeight: 0.1 },
      ],
      CreationTime: NOW,
    }),
    ...endpointRollOut(endpointArn, NOW),
    RecordChampionModel: () => ({
      ETag: '"1f3870be274f6c49b3e31a0c6728957f"',
      ServerSideEncryption: 'aws:kms',
    }),
    RecordChampion: () => ({ ETag: '"9b2cf535f27731c974343645a3985328"', ServerSideEncryption: 'aws:kms' }),
    NotifyPromoted: () => ({ MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyRejected: () => ({ MessageId: '0a1b2c3d-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyFailure: () => ({ MessageId: 'f0e1d2c3-ee98-5cb9-9903-4c221d41eb5e' }),
  };
  for (const state of afterPromotionStates(machine.definition))
    responders[state] = () => ({ step: state, ok: true });
  return responders;
}

async function run(setup: Setup, champion?: { metrics: Record<string, number>; job: string }) {
  const result = await runStateMachine(setup.machine, {
    responders: fakeAws(setup, champion),
    executionName: 'scheduled-run-0043',
    maxCalls: 60,
  });
  expect(result.harnessErrors).toEqual([]);
  expect(result.invalidResponses).toEqual([]);
  expect(result.invalidRequests).toEqual([]);
  return result;
}

const requestOf = (result: ExecutionResult, state: string) => {
  const call = result.calls.find((candidate) => candidate.state === state);
  if (!call)
    throw new Error(`${state} was not called; calls: ${result.calls.map((c) => c.state).join(', ')}`);
  return call.request;
};
const championOf = (setup: Setup) => {
  const { metric, baselineMetric } = setup.app.config.design.model.gate;
  return { metrics: { [metric]: 0.3, [baselineMetric]: 0.2 }, job: OLD_CHAMPION_JOB };
};

describe.each<ProfileName>(['sandbox', 'production'])('warm starts of the recommender (%s)', (profile) => {
  let setup: Setup;
  beforeAll(() => {
    setup = setupOf(synthesizeApp(profile, 'artist-recommender'));
  });

  test('GIVEN a recorded champion WHEN a scheduled retrain runs THEN the job gets its model as the champion channel', async () => {
    const result = await run(setup, championOf(setup));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.entered).toContain('WarmStart');
    const train = requestOf(result, 'Train');
    expect(train.InputDataConfig.map((c: { ChannelName: string }) => c.ChannelName)).toEqual([
      'train',
      'validation',
      'champion',
    ]);
    // The exact key as an S3Prefix: the one object, copied as is (File mode, no CompressionType).
    expect(train.InputDataConfig[2]).toEqual({
      ChannelName: 'champion',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: `s3://${setup.bucket}/models/${OLD_CHAMPION_JOB}/output/model.tar.gz`,
          S3DataDistributionType: 'FullyReplicated',
        },
      },
      ContentType: 'application/gzip',
    });
    expect(requestOf(result, 'FindChampion')).toEqual({ Bucket: setup.bucket, Key: 'champion/model.json' });
  });

  test('WHEN the candidate is promoted THEN its model is recorded for the next run, before its metrics', async () => {
    const result = await run(setup, championOf(setup));
    const states = result.calls.map((c) => c.state);
    expect(states.indexOf('RecordChampionModel')).toBeLessThan(states.indexOf('RecordChampion'));
    const job = requestOf(result, 'Train').TrainingJobName;
    expect(requestOf(result, 'RecordChampionModel')).toMatchObject({
      Bucket: setup.bucket,
      Key: 'champion/model.json',
      ContentType: 'application/json',
    });
    expect(JSON.parse(requestOf(result, 'RecordChampionModel').Body)).toEqual({
      trainingJob: job,
      modelDataUrl: `s3://${setup.bucket}/models/${job}/output/model.tar.gz`,
    });
  });

  test('GIVEN no promotion yet WHEN the first run trains THEN there is no champion channel', async () => {
    const result = await run(setup);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.caught).toEqual([{ state: 'FindChampion', error: 'S3.NoSuchKeyException' }]);
    expect(result.entered).toContain('ColdStart');
    expect(
      requestOf(result, 'Train').InputDataConfig.map((c: { ChannelName: string }) => c.ChannelName),
    ).toEqual(['train', 'validation']);
  });

  test('WHEN S3 denies the lookup THEN the run fails instead of silently training cold', async () => {
    const responders = fakeAws(setup);
    responders.FindChampion = () => {
      throw serviceError('S3.AccessDeniedException', 'Access Denied');
    };
    const result = await runStateMachine(setup.machine, { responders, executionName: 'scheduled-run-0044' });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('S3.AccessDeniedException');
    expect(result.calls.map((c) => c.state)).not.toContain('Train');
  });

  test('the state machine role reads the pointer and may list the bucket, so a missing pointer reads NoSuchKey', () => {
    const set = new TemplateSet(
      setup.app.templates.map((t) => ({ ...t, templatePath: `${t.stackName}.template.json` })),
    );
    expect(missingForStateMachines(set)).toEqual([]);
  });
});

test('the ad click design keeps training from scratch: no champion lookup, no model record', () => {
  const { machine } = setupOf(synthesizeApp('sandbox', 'ad-click'));
  for (const state of ['FindChampion', 'WarmStart', 'ColdStart', 'ChampionModel', 'RecordChampionModel']) {
    expect(machine.definition.States).not.toHaveProperty(state);
  }
  const train = machine.definition.States.Train as unknown as { Parameters: Record<string, unknown> };
  expect(train.Parameters.InputDataConfig).toHaveLength(2);
});

describe("automatic model tuning, the recommender's production profile with tuning: 'sagemaker'", () => {
  let tuned: Setup;
  let plain: Setup;
  let result: ExecutionResult;
  beforeAll(async () => {
    tuned = setupOf(
      synthesizeApp('production', 'artist-recommender', recommenderWith({ tuning: sagemakerTuning() })),
    );
    plain = setupOf(synthesizeApp('production', 'artist-recommender'));
    result = await run(tuned, championOf(tuned));
  });

  test('every Task parameter block matches its API model', () => {
    expect(validateDefinitionStatically(tuned.machine.definition)).toEqual([]);
  });

  test('the sandbox keeps the in-job search: no tuning job there', () => {
    const sandbox = setupOf(
      synthesizeApp('sandbox', 'artist-recommender', recommenderWith({ tuning: sagemakerTuning() })),
    );
    expect(sandbox.machine.definition.States).not.toHaveProperty('Tune');
    expect(sandbox.machine.definition.States).toHaveProperty('Train');
  });

  test("THEN the tuning job searches the search space for the gate's metric, the script's own search off", () => {
    expect(result.status).toBe('SUCCEEDED');
    const tune = requestOf(result, 'Tune');
    const runName = requestOf(result, 'CreateModel').ModelName as string;
    // At most 32 characters: the run prefix and the first group of the run's UUID.
    expect(tune.HyperParameterTuningJobName).toBe(`artist-recommender-prod-${runName.split('-')[3]}`);
    expect(tune.HyperParameterTuningJobName.length).toBeLessThanOrEqual(32);
    expect(tune.HyperParameterTuningJobConfig).toMatchObject({
      Strategy: 'Bayesian',
      HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'ndcg_at_10' },
      // Three rounds of two trials of up to 4 hours.
      ResourceLimits: {
        MaxNumberOfTrainingJobs: 6,
        MaxParallelTrainingJobs: 2,
        MaxRuntimeInSeconds: 3 * 4 * 3600,
      },
    });
    const space = JSON.parse(fs.readFileSync(SEARCH_SPACE, 'utf8')) as { parameters: { name: string }[] };
    const ranges = tune.HyperParameterTuningJobConfig.ParameterRanges as Record<string, { Name: string }[]>;
    expect(
      Object.values(ranges)
        .flat()
        .map((r) => r.Name)
        .sort(),
    ).toEqual(space.parameters.map((p) => p.name).sort());
    expect(tune.TrainingJobDefinition.StaticHyperParameters).toMatchObject({ tune: 'false', k: '50' });
    for (const { name } of space.parameters) {
      expect(tune.TrainingJobDefinition.StaticHyperParameters).not.toHaveProperty(name);
    }
  });

  test('THEN every trial runs the plain train step’s job definition, from scratch', () => {
    const definition = requestOf(result, 'Tune').TrainingJobDefinition;
    const train = plain.machine.definition.States.Train as unknown as { Parameters: ApiRequest };
    for (const member of [
      'RoleArn',
      'AlgorithmSpecification',
      'OutputDataConfig',
      'ResourceConfig',
      'StoppingCondition',
      'EnableManagedSpotTraining',
      'VpcConfig',
    ]) {
      expect({ member, value: definition[member] }).toEqual({ member, value: train.Parameters[member] });
    }
    expect(definition.StaticHyperParameters).toEqual({ ...train.Parameters.HyperParameters, tune: 'false' });
    expect(definition.InputDataConfig.map((c: { ChannelName: string }) => c.ChannelName)).toEqual([
      'train',
      'validation',
    ]);
    expect(result.calls.map((c) => c.state)).not.toContain('FindChampion');
  });

  test('THEN the best trial is the candidate: evaluated, registered and deployed as the run', () => {
    const best = `${requestOf(result, 'Tune').HyperParameterTuningJobName}-004-8f3a2b1c`;
    const runName = requestOf(result, 'CreateModel').ModelName as string;
    expect(requestOf(result, 'DescribeBestTrainingJob')).toEqual({ TrainingJobName: best });
    expect(JSON.parse(requestOf(result, 'Evaluate').Payload)).toMatchObject({
      trainingJob: best,
      candidateOutputKey: `models/${best}/output/output.tar.gz`,
    });
    const modelDataUrl = `s3://${tuned.bucket}/models/${best}/output/model.tar.gz`;
    expect(requestOf(result, 'Register').InferenceSpecification.Containers[0].ModelDataUrl).toBe(
      modelDataUrl,
    );
    expect(requestOf(result, 'Register').ModelPackageDescription).toBe(`Training job ${best}`);
    expect(requestOf(result, 'CreateModel').PrimaryContainer.ModelDataUrl).toBe(modelDataUrl);
    expect(runName).toMatch(/^artist-recommender-prod-[0-9a-f]{8}-/);
    expect(JSON.parse(requestOf(result, 'RecordChampionModel').Body)).toEqual({
      trainingJob: best,
      modelDataUrl,
    });
  });

  test('THEN the state machine role gets the tuning actions and rule, scoped to the run prefix, and no training-job start', () => {
    const set = new TemplateSet(
      tuned.app.templates.map((t) => ({ ...t, templatePath: `${t.stackName}.template.json` })),
    );
    expect(missingForStateMachines(set)).toEqual([]);
    const stackName = tuned.app.stack(PipelineStack).stackName;
    const pipeline = tuned.app.templates.find((t) => t.stackName === stackName)!;
    const statements = Object.values(pipeline.template.Resources ?? {})
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (r) => (r.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
      );
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    const sagemakerActions = new Set(
      actions.filter((a) => a.toLowerCase().startsWith('sagemaker:') && /tuning|trainingjob/i.test(a)),
    );
    expect([...sagemakerActions].sort()).toEqual([
      'sagemaker:CreateHyperParameterTuningJob',
      'sagemaker:DescribeHyperParameterTuningJob',
      'sagemaker:StopHyperParameterTuningJob',
      'sagemaker:describeTrainingJob',
    ]);
    const rules = JSON.stringify(statements.filter((s) => [s.Action].flat().includes('events:PutRule')));
    expect(rules).toContain('StepFunctionsGetEventsForSageMakerTuningJobsRule');
    expect(rules).not.toContain('StepFunctionsGetEventsForSageMakerTrainingJobsRule');
  });
});

describe('a bad search space or tuning setting fails synth, naming the field', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'search-space-'));
  const write = (name: string, content: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(content));
    return file;
  };
  const synth = (tuning: ModelTuning) => () =>
    synthesizeApp('production', 'artist-recommender', recommenderWith({ tuning }));

  test('a range whose max is not above its min, and a log scale through 0', () => {
    const searchSpace = write('bad-range.json', {
      parameters: [
        { name: 'reg', type: 'continuous', min: 3, max: 1, scale: 'log' },
        { name: 'norm_exponent', type: 'continuous', min: 0, max: 0.6, scale: 'log' },
      ],
      objective: { metric: 'ndcg_at_10', direction: 'maximize' },
    });
    expect(synth(sagemakerTuning({ searchSpace }))).toThrow(
      /bad-range\.json:[\s\S]*parameters\[0\]\.max: must be greater than min \(3\); got 1[\s\S]*parameters\[1\]\.min: a log scale needs values greater than 0/,
    );
  });

  test('an unknown type, a fractional integer bound and an objective other than the gate’s', () => {
    const searchSpace = write('bad-types.json', {
      parameters: [
        { name: 'factors', type: 'integer', min: 16.5, max: 256 },
        { name: 'alpha', type: 'uniform', min: 0, max: 1 },
      ],
      objective: { metric: 'recall_at_10', direction: 'maximize' },
    });
    expect(synth(sagemakerTuning({ searchSpace }))).toThrow(
      /parameters\[0\]\.min: must be an integer; got 16\.5[\s\S]*parameters\[1\]\.type: must be "continuous", "integer" or "categorical"/,
    );
    const wrongObjective = write('wrong-objective.json', {
      parameters: [{ name: 'reg', type: 'continuous', min: 3, max: 300, scale: 'log' }],
      objective: { metric: 'recall_at_10', direction: 'maximize' },
    });
    expect(synth(sagemakerTuning({ searchSpace: wrongObjective }))).toThrow(
      /objective\.metric: "recall_at_10" is not the gate's metric "ndcg_at_10"/,
    );
  });

  test('more trials at once than in all, a fixed hyperparameter searched, and rounds that outlast the cadence', () => {
    const searchSpace = write('searches-k.json', {
      parameters: [{ name: 'k', type: 'integer', min: 10, max: 100 }],
      objective: { metric: 'ndcg_at_10', direction: 'maximize' },
    });
    expect(synth(sagemakerTuning({ searchSpace, maxJobs: 4, maxParallelJobs: 5 }))).toThrow(
      /tuning\.maxParallelJobs: no more than maxJobs \(4\); got 5[\s\S]*tuning\.searchSpace: "k" is also a fixed hyperparameter/,
    );
    expect(synth(sagemakerTuning({ maxJobs: 12, maxParallelJobs: 1 }))).toThrow(
      /tuning: 12 rounds of 1 trials of up to 4 h \(48 h\) outlast the 24 h between runs/,
    );
  });
});
