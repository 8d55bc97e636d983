/**
 * The baselining step of a monitored design's training pipeline (the ad click design in
 * production), run in aws-local-stepfunctions with every Task answered by a stub that validates its
 * request against the AWS API model: once the promoted model serves, the run's baseline sample is
 * extracted from its output archive and baselined to the prefix the monitoring schedule reads.
 * The extraction script itself runs here too, on an archive laid out as SageMaker packs one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decide } from '../../../../lambda/platform/evaluation-gate/decide';
import type { GateOutput } from '../../../../lambda/platform/evaluation-gate/handler';
import { registryMetadata } from '../../../../lambda/platform/evaluation-gate/registry-metadata';
import { DataStack } from '../../../../lib/platform/stacks/data-stack';
import { MlStack } from '../../../../lib/platform/stacks/ml-stack';
import { PipelineStack } from '../../../../lib/platform/stacks/pipeline-stack';
import {
  endpointRollOut,
  deployedStateMachine,
  deployedValue,
  runStateMachine,
  StepFunctionsError,
  synthesizeApp,
  validateDefinitionStatically,
  type ExecutionResult,
  type Responder,
} from '../../../support/asl';

const app = synthesizeApp('production', 'ad-click');
const data = app.stack(DataStack);
const ml = app.stack(MlStack);
const pipelineStack = app.stack(PipelineStack);
const machine = deployedStateMachine(app, pipelineStack.pipeline.stateMachine);
const bucket = deployedValue(app, data, data.artifacts.bucket.bucketName) as string;
const endpointName = deployedValue(app, ml.endpoint, ml.endpoint.endpointName) as string;
const monitor = ml.dataQualityMonitor!;
const NOW = '2026-03-14T02:00:00.000Z';
const CANDIDATE = { log_loss: 0.41, baseline_log_loss: 0.45 };

/** A `.sync` processing job's description once it ended: the request echoed, then its status. */
function describedProcessingJob(request: Record<string, unknown>, status: 'Completed' | 'Failed') {
  return {
    ...request,
    ProcessingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:processing-job/${request.ProcessingJobName}`,
    ProcessingJobStatus: status,
    ...(status === 'Failed' ? { FailureReason: 'AlgorithmError: baseline dataset is empty' } : {}),
    CreationTime: NOW,
  };
}

function fakeAws(options: { baselineFails?: boolean } = {}): Record<string, Responder> {
  const endpointArn = `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpointName.toLowerCase()}`;
  return {
    Train: (request) => ({
      TrainingJobName: request.TrainingJobName,
      TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${request.TrainingJobName}`,
      AlgorithmSpecification: request.AlgorithmSpecification,
      ResourceConfig: request.ResourceConfig,
      StoppingCondition: request.StoppingCondition,
      RoleArn: request.RoleArn,
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      ModelArtifacts: {
        S3ModelArtifacts: `${request.OutputDataConfig.S3OutputPath}${request.TrainingJobName}/output/model.tar.gz`,
      },
      BillableTimeInSeconds: 600,
      CreationTime: NOW,
      LastModifiedTime: NOW,
    }),
    Evaluate: (request): GateOutput => {
      const event = JSON.parse(request.Payload) as { trainingJob?: string };
      const result = decide(CANDIDATE, undefined, app.config.design.model.gate);
      return {
        ...result,
        candidateMetrics: CANDIDATE,
        registryMetadata: registryMetadata(result, event.trainingJob),
      };
    },
    Register: () => ({
      ModelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/ad-click-models/1',
    }),
    CreateModel: (request) => ({
      ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${request.ModelName}`,
    }),
    DescribeEndpoint: (request) => ({
      EndpointName: request.EndpointName,
      EndpointArn: endpointArn,
      EndpointConfigName: 'bootstrap-config',
      EndpointStatus: 'InService',
      CreationTime: NOW,
      LastModifiedTime: NOW,
    }),
    DescribeEndpointConfig: (request) => ({
      EndpointConfigName: request.EndpointConfigName,
      EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${request.EndpointConfigName}`,
      ProductionVariants: [
        { VariantName: 'champion', ModelName: 'bootstrap-model', InitialVariantWeight: 0.9 },
        { VariantName: 'challenger', ModelName: 'bootstrap-model', InitialVariantWeight: 0.1 },
      ],
      CreationTime: NOW,
    }),
    ...endpointRollOut(endpointArn, NOW),
    ExtractBaselineSample: (request) => describedProcessingJob(request, 'Completed'),
    SuggestBaseline: (request) => {
      const described = describedProcessingJob(request, options.baselineFails ? 'Failed' : 'Completed');
      // A `.sync` job that ends Failed fails the task with the job's description as the cause.
      if (options.baselineFails) throw new StepFunctionsError('States.TaskFailed', JSON.stringify(described));
      return described;
    },
    RecordChampion: () => ({ ETag: '"9b2cf535f27731c974343645a3985328"' }),
    NotifyPromoted: () => ({ MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyFailure: () => ({ MessageId: 'f0e1d2c3-ee98-5cb9-9903-4c221d41eb5e' }),
  };
}

async function run(options: { baselineFails?: boolean } = {}): Promise<ExecutionResult> {
  const result = await runStateMachine(machine, {
    responders: fakeAws(options),
    executionName: 'scheduled-run-0042',
    maxCalls: 40,
  });
  expect(result.harnessErrors).toEqual([]);
  expect(result.invalidRequests).toEqual([]);
  expect(result.invalidResponses).toEqual([]);
  return result;
}

const requestOf = (result: ExecutionResult, state: string) => {
  const call = result.calls.find((candidate) => candidate.state === state);
  if (!call)
    throw new Error(`${state} was not called; calls: ${result.calls.map((c) => c.state).join(', ')}`);
  return call.request;
};

test('every Task parameter block, the processing jobs included, matches its API model', () => {
  expect(validateDefinitionStatically(machine.definition)).toEqual([]);
});

describe('GIVEN a promoted candidate whose model the endpoint serves', () => {
  let result: ExecutionResult;
  beforeAll(async () => {
    result = await run();
  });

  test('THEN the baseline is rebuilt after the deployment and before the champion is recorded', () => {
    expect(result.status).toBe('SUCCEEDED');
    const states = result.calls.map((call) => call.state);
    expect(states.slice(states.lastIndexOf('PollEndpoint') + 1)).toEqual([
      'ExtractBaselineSample',
      'SuggestBaseline',
      'RecordChampion',
      'NotifyPromoted',
    ]);
  });

  test("THEN the sample comes out of the run's archive into a folder of the run", () => {
    const jobName = requestOf(result, 'Train').TrainingJobName as string;
    const extract = requestOf(result, 'ExtractBaselineSample');
    expect(extract.ProcessingJobName).toBe(jobName);
    expect(extract.ProcessingInputs[0].S3Input).toMatchObject({
      S3Uri: `s3://${bucket}/models/${jobName}/output/output.tar.gz`,
      LocalPath: '/opt/ml/processing/input/archive',
    });
    expect(extract.AppSpecification.ContainerArguments).toEqual([
      '/opt/ml/processing/input/archive/output.tar.gz',
      '/opt/ml/processing/output',
      'monitoring-baseline/',
    ]);
    expect(extract.ProcessingOutputConfig.Outputs[0].S3Output).toMatchObject({
      S3Uri: `s3://${bucket}/monitoring/baseline-dataset/${jobName}/`,
      LocalPath: '/opt/ml/processing/output',
    });
    expect(extract.NetworkConfig).toEqual({ EnableNetworkIsolation: true });
  });

  test('THEN the analyzer baselines that folder as JSON lines into the prefix the schedule reads', () => {
    const jobName = requestOf(result, 'Train').TrainingJobName as string;
    const suggest = requestOf(result, 'SuggestBaseline');
    expect(suggest.ProcessingJobName).toMatch(new RegExp(`^${app.config.runNamePrefix}-[0-9a-f-]{36}$`));
    expect(suggest.ProcessingJobName).not.toBe(jobName);
    expect(suggest.AppSpecification.ImageUri).toBe(
      '156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer',
    );
    expect(suggest.Environment).toEqual({
      dataset_format: '{"json":{"lines":true}}',
      dataset_source: '/opt/ml/processing/input/baseline_dataset_input',
      output_path: '/opt/ml/processing/output',
      publish_cloudwatch_metrics: 'Disabled',
    });
    expect(suggest.ProcessingInputs[0].S3Input.S3Uri).toBe(
      requestOf(result, 'ExtractBaselineSample').ProcessingOutputConfig.Outputs[0].S3Output.S3Uri,
    );
    const baselinePrefix = suggest.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri as string;
    // The schedule, as deployed, reads the two files the analyzer writes there.
    const config = deployedValue(app, monitor, monitor.schedule.monitoringScheduleConfig) as {
      monitoringJobDefinition: {
        baselineConfig: { constraintsResource: { s3Uri: string }; statisticsResource: { s3Uri: string } };
      };
    };
    expect(config.monitoringJobDefinition.baselineConfig).toEqual({
      constraintsResource: { s3Uri: `${baselinePrefix}constraints.json` },
      statisticsResource: { s3Uri: `${baselinePrefix}statistics.json` },
    });
    expect(baselinePrefix).toBe(`s3://${bucket}/monitoring/baseline/`);
  });
});

describe('GIVEN a baselining job that fails', () => {
  test('THEN the run fails and notifies, and the champion is not recorded', async () => {
    const result = await run({ baselineFails: true });
    expect(result.status).toBe('FAILED');
    const states = result.calls.map((call) => call.state);
    expect(states).toContain('NotifyFailure');
    expect(states).not.toContain('RecordChampion');
  });
});

describe('the extraction script the job runs', () => {
  let work: string;
  let entrypoint: string[];
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'baseline-extract-'));
    const states = machine.definition.States as unknown as Record<
      string,
      { Parameters: { AppSpecification: Record<string, string[]> } }
    >;
    entrypoint = states.ExtractBaselineSample.Parameters.AppSpecification.ContainerEntrypoint;
    // Every element fits ContainerEntrypoint's 256 characters.
    expect(Math.max(...entrypoint.map((part) => part.length))).toBeLessThanOrEqual(256);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  const extract = (archive: string, out: string) =>
    spawnSync(entrypoint[0], [...entrypoint.slice(1), archive, out, 'monitoring-baseline/'], {
      encoding: 'utf8',
    });

  test('takes the folder out of an archive packed as SageMaker packs the output data, without the rest', () => {
    const source = path.join(work, 'output-data');
    fs.mkdirSync(path.join(source, 'monitoring-baseline'), { recursive: true });
    fs.writeFileSync(path.join(source, 'metrics.json'), '{}');
    fs.writeFileSync(path.join(source, 'monitoring-baseline', 'dataset.jsonl'), '{"device":"mobile"}\n');
    const archive = path.join(work, 'output.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', source, '.']);
    const out = path.join(work, 'out');
    const done = extract(archive, out);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(fs.readdirSync(out)).toEqual(['dataset.jsonl']);
    expect(fs.readFileSync(path.join(out, 'dataset.jsonl'), 'utf8')).toBe('{"device":"mobile"}\n');
  });

  test('fails, naming the folder, when the archive has no baseline sample', () => {
    const source = path.join(work, 'no-sample');
    fs.mkdirSync(source, { recursive: true });
    fs.writeFileSync(path.join(source, 'metrics.json'), '{}');
    const archive = path.join(work, 'no-sample.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', source, 'metrics.json']);
    const done = extract(archive, path.join(work, 'out2'));
    expect(done.status).not.toBe(0);
    expect(done.stderr).toContain('no monitoring-baseline/ in');
  });
});
