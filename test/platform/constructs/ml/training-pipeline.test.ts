/**
 * The training pipeline construct on its own, in a small stack: the composition of its parts, the
 * optional step after a promotion (with and without one), and a lower-is-better gate, run in
 * aws-local-stepfunctions with every Task answered by a stub validated against the AWS API model.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { decide, type GatePolicy } from '../../../../lambda/platform/evaluation-gate/decide';
import { registryMetadata } from '../../../../lambda/platform/evaluation-gate/registry-metadata';
import { DlcImage } from '../../../../lib/platform/constructs/ml/dlc-image';
import { ModelEndpoint, type EndpointHosting } from '../../../../lib/platform/constructs/ml/model-endpoint';
import { SourceBundle } from '../../../../lib/platform/constructs/ml/source-bundle';
import {
  TrainingPipeline,
  type AfterPromotion,
  type TrainingPipelineProps,
} from '../../../../lib/platform/constructs/ml/training-pipeline';
import {
  endpointRollOut,
  lambdaFunctionError,
  runStateMachine,
  serviceError,
  validateDefinitionStatically,
  type DeployedStateMachine,
  type ExecutionResult,
  type Responder,
} from '../../../support/asl';
import { CfnResolver, type CfnTemplate } from '../../../support/asl/cfn';

const PREFIX = 'ctr-sbx';
/** A real-time design's gate: log loss, lower is better, never worse than a coin flip. */
const LOG_LOSS: GatePolicy = {
  metric: 'log_loss',
  direction: 'lower-is-better',
  range: [0, Math.LN2],
  baselineMetric: 'baseline_log_loss',
  minImprovementOverChampion: 0.0005,
  minImprovementOverBaseline: 0.002,
};
const SERVERLESS: EndpointHosting = { kind: 'serverless', memorySizeMb: 2048, maxConcurrency: 5 };

interface Built {
  readonly stack: Stack;
  readonly pipeline: TrainingPipeline;
  readonly machine: DeployedStateMachine;
  readonly bucket: string;
}

/** A pipeline in a stack of its own, synthesized and resolved with fake deployment values. */
function build(overrides: Partial<TrainingPipelineProps> = {}): Built {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Scoring');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const artifacts = new s3.Bucket(stack, 'Artifacts');
  const source = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-source-'));
  fs.writeFileSync(path.join(source, 'train.py'), 'print("metric: log_loss=0.4")\n');
  const endpoint = new ModelEndpoint(stack, 'Endpoint', {
    image: DlcImage.pytorchInference('cpu'),
    initialModelData: { bucket: artifacts, key: 'models/bootstrap/model.tar.gz' },
    variants: [{ name: 'champion', weight: 1 }],
    hosting: SERVERLESS,
  });
  const pipeline = new TrainingPipeline(stack, 'Training', {
    namePrefix: PREFIX,
    artifacts,
    key: new kms.Key(stack, 'Key'),
    trainingImage: DlcImage.pytorchTrainingGpu(),
    inferenceImage: DlcImage.pytorchInference('cpu'),
    source: new SourceBundle(stack, 'Code', { directory: source }),
    entryPoint: 'train.py',
    metricNames: ['log_loss', 'baseline_log_loss'],
    resources: {
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      maxRuntime: Duration.hours(1),
      volumeSizeGb: 50,
      spot: false,
    },
    vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    endpoint,
    hosting: SERVERLESS,
    gate: new lambda.Function(stack, 'Gate', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    }),
    notifications: new sns.Topic(stack, 'Notifications'),
    cadence: Duration.days(1),
    scheduleEnabled: false,
    ...overrides,
  });
  const templates = app.synth().stacks.map((artifact) => ({
    stackName: artifact.stackName,
    template: artifact.template as CfnTemplate,
  }));
  const resolver = new CfnResolver(templates);
  const template = templates[0];
  const logicalId = stack.resolve(
    (pipeline.stateMachine.node.defaultChild as CfnResource).logicalId,
  ) as string;
  const arn = resolver.resolveString({ Ref: logicalId }, template);
  const definitionString = template.template.Resources?.[logicalId]?.Properties?.DefinitionString;
  return {
    stack,
    pipeline,
    machine: {
      arn,
      name: arn.split(':').pop() as string,
      definition: JSON.parse(resolver.resolveString(definitionString, template)),
    },
    bucket: resolver.resolveString(
      { Ref: stack.resolve((artifacts.node.defaultChild as CfnResource).logicalId) },
      template,
    ),
  };
}

/** SageMaker, the gate (the real decision on `candidate`), S3 and SNS, all answering as on a good day. */
function responders(
  candidate: Record<string, number>,
  champion?: Record<string, number>,
): Record<string, Responder> {
  const now = '2025-03-14T02:00:00.000Z';
  const endpointArn = 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/scoring';
  return {
    Train: (request) => ({
      TrainingJobName: request.TrainingJobName,
      TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${request.TrainingJobName}`,
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      AlgorithmSpecification: request.AlgorithmSpecification,
      ResourceConfig: request.ResourceConfig,
      StoppingCondition: request.StoppingCondition,
      RoleArn: request.RoleArn,
      ModelArtifacts: {
        S3ModelArtifacts: `${request.OutputDataConfig.S3OutputPath}${request.TrainingJobName}/output/model.tar.gz`,
      },
      BillableTimeInSeconds: 600,
      CreationTime: now,
      LastModifiedTime: now,
    }),
    Evaluate: (request) => {
      const result = decide(candidate, champion, LOG_LOSS);
      const event = JSON.parse(request.Payload) as { trainingJob: string };
      return {
        ...result,
        candidateMetrics: candidate,
        registryMetadata: registryMetadata(result, event.trainingJob),
      };
    },
    Register: () => ({
      ModelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/ctr-sbx-models/1',
    }),
    CreateModel: (request) => ({
      ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${request.ModelName}`,
    }),
    ...endpointRollOut(endpointArn, now),
    RecordChampion: () => ({ ETag: '"9b2cf535f27731c974343645a3985328"' }),
    NotifyPromoted: () => ({ MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyRejected: () => ({ MessageId: '0a1b2c3d-ee98-5cb9-9903-4c221d41eb5e' }),
    NotifyFailure: () => ({ MessageId: 'f0e1d2c3-ee98-5cb9-9903-4c221d41eb5e' }),
  };
}

async function run(
  machine: DeployedStateMachine,
  answers: Record<string, Responder>,
): Promise<ExecutionResult> {
  const result = await runStateMachine(machine, { responders: answers, maxCalls: 40 });
  expect(result.harnessErrors).toEqual([]);
  expect(result.invalidRequests).toEqual([]);
  expect(result.invalidResponses).toEqual([]);
  return result;
}

const called = (result: ExecutionResult) => result.calls.map((call) => call.state);
const requestOf = (result: ExecutionResult, state: string) =>
  result.calls.find((c) => c.state === state)?.request;
const BETTER = { log_loss: 0.44, baseline_log_loss: 0.47 };

describe('GIVEN a real-time design: a log-loss gate and no step after a promotion', () => {
  let built: Built;
  beforeAll(() => {
    built = build();
  });

  test('THEN every task parameter block matches its API model, and the run is named after the design', () => {
    expect(validateDefinitionStatically(built.machine.definition)).toEqual([]);
    expect(built.machine.definition.States.NameRun).toMatchObject({
      Parameters: { 'jobName.$': `States.Format('${PREFIX}-{}', States.UUID())` },
    });
  });

  test('WHEN the candidate has the lower loss THEN it is rolled out and recorded, with nothing in between', async () => {
    const result = await run(built.machine, responders(BETTER, { log_loss: 0.45 }));
    expect(result.status).toBe('SUCCEEDED');
    expect(called(result)).toEqual([
      'Train',
      'Evaluate',
      'Register',
      'CreateModel',
      'CreateEndpointConfig',
      'UpdateEndpoint',
      'PollEndpoint',
      'RecordChampion',
      'NotifyPromoted',
    ]);
    expect(JSON.parse(requestOf(result, 'RecordChampion').Body)).toEqual(BETTER);
    expect(requestOf(result, 'Register').CustomerMetadataProperties).toMatchObject({
      decision: 'promote',
      metric: 'log_loss',
      direction: 'lower-is-better',
    });
    expect(result.published).toEqual([
      expect.objectContaining({
        subject: `${PREFIX}: model promoted`,
        message: {
          trainingJob: requestOf(result, 'Train').TrainingJobName,
          gate: ["log_loss 0.4400 beats the champion's 0.4500 and the baseline's 0.4700"],
          modelPackage: expect.any(String),
        },
      }),
    ]);
  });

  test('WHEN the candidate has the higher loss THEN it is rejected and nothing is deployed', async () => {
    const result = await run(
      built.machine,
      responders({ log_loss: 0.46, baseline_log_loss: 0.47 }, { log_loss: 0.45 }),
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(called(result)).toEqual(['Train', 'Evaluate', 'NotifyRejected']);
    expect(result.published[0]).toMatchObject({
      subject: `${PREFIX}: candidate rejected by the evaluation gate`,
      message: { reasons: ["log_loss 0.4600 does not beat the champion's 0.4500 by 0.0005"] },
    });
  });

  test('WHEN the loss is outside the range THEN the run fails InvalidMetrics, naming the range', async () => {
    const result = await run(built.machine, responders({ log_loss: 0.9, baseline_log_loss: 0.47 }));
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidMetrics');
    expect(JSON.parse(result.cause as string)).toEqual([
      `candidate metrics have log_loss 0.9, outside its range [0, ${Math.LN2}]`,
    ]);
    expect(result.published[0]).toMatchObject({ subject: `${PREFIX}: training pipeline failed` });
  });
});

describe("GIVEN a design's step after a promotion", () => {
  /** Two tasks, as a design would write them: no retries or catches of their own. */
  const exportOutputs: AfterPromotion = (scope, run) => {
    const fn = lambda.Function.fromFunctionName(scope, 'Exporter', 'exporter');
    const exporter = new tasks.LambdaInvoke(scope, 'ExportOutputs', {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({
        bucket: run.artifacts.bucketName,
        'key.$': run.outputArchiveKey,
        'job.$': run.runNamePath,
        variant: run.championVariant,
      }),
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
    });
    const announce = new tasks.LambdaInvoke(scope, 'Announce', {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      resultPath: run.resultPath,
    });
    return exporter.next(announce);
  };
  let built: Built;
  beforeAll(() => {
    built = build({ afterPromotion: exportOutputs });
  });

  test('THEN its tasks run once the endpoint serves the model, before the champion is recorded, each guarded', () => {
    const { States } = built.machine.definition;
    const inService = (States.DeploymentStatus as unknown as { Choices: { Next: string }[] }).Choices[0].Next;
    expect(inService).toBe('ExportOutputs');
    expect(States.ExportOutputs.Next).toBe('Announce');
    expect(States.Announce.Next).toBe('RecordChampion');
    for (const name of ['ExportOutputs', 'Announce']) {
      const state = States[name] as unknown as { Retry: { ErrorEquals: string[] }[]; Catch: unknown[] };
      expect(state.Retry.some((retry) => retry.ErrorEquals.includes('Lambda.TooManyRequestsException'))).toBe(
        true,
      );
      expect(state.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' },
      ]);
    }
  });

  test('WHEN a run is promoted THEN the step gets the run, and its result is published with the promotion', async () => {
    const answers = {
      ...responders(BETTER),
      ExportOutputs: () => ({ exported: 3 }),
      Announce: () => ({ announced: true }),
    };
    const result = await run(built.machine, answers);
    expect(result.status).toBe('SUCCEEDED');
    expect(called(result).slice(-5)).toEqual([
      'PollEndpoint',
      'ExportOutputs',
      'Announce',
      'RecordChampion',
      'NotifyPromoted',
    ]);
    const job = requestOf(result, 'Train').TrainingJobName;
    expect(JSON.parse(requestOf(result, 'ExportOutputs').Payload)).toEqual({
      bucket: built.bucket,
      key: `models/${job}/output/output.tar.gz`,
      job,
      variant: 'champion',
    });
    expect(result.published[0].message).toMatchObject({ afterPromotion: { announced: true } });
  });

  test('WHEN its task is throttled THEN it is retried; WHEN it fails THEN the run fails before the champion is recorded', async () => {
    let calls = 0;
    const throttled = await run(built.machine, {
      ...responders(BETTER),
      ExportOutputs: () => {
        calls += 1;
        if (calls === 1) throw serviceError('Lambda.TooManyRequestsException');
        return {};
      },
      Announce: () => ({}),
    });
    expect(throttled.status).toBe('SUCCEEDED');
    expect(throttled.retried).toEqual([{ state: 'ExportOutputs', error: 'Lambda.TooManyRequestsException' }]);

    const failed = await run(built.machine, {
      ...responders(BETTER),
      ExportOutputs: () => {
        throw lambdaFunctionError('ExportError', 'disk full');
      },
    });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('ExportError');
    expect(called(failed)).not.toContain('RecordChampion');
    expect(called(failed).slice(-2)).toEqual(['ExportOutputs', 'NotifyFailure']);
  });
});

describe('TrainingPipeline props', () => {
  test('every bad prop is named in one error', () => {
    expect(() =>
      build({ namePrefix: 'Bad_Prefix', metricNames: [], removalPolicy: RemovalPolicy.DESTROY }),
    ).toThrow(
      /namePrefix: lower-case[\s\S]*metricNames: at least[\s\S]*runCleanup: required with RemovalPolicy\.DESTROY/,
    );
  });

  test('the registry group is described as the design says, or generically', () => {
    const description = (built: Built) =>
      Object.values(Template.fromStack(built.stack).findResources('AWS::SageMaker::ModelPackageGroup')).map(
        (group) => group.Properties.ModelPackageGroupDescription,
      );
    expect(description(build())).toEqual(['Models that passed the evaluation gate']);
    expect(description(build({ registryDescription: 'Scoring models' }))).toEqual(['Scoring models']);
  });
});
