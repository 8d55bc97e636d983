import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { gateEnvironment } from '../../lambda/platform/evaluation-gate/policy';
import { appUnderTest, DESIGNS_AND_PROFILES } from './app-under-test';
import { builtForCollection } from './collect';
import { afterPromotionStates } from '../support/asl';

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts: number; BackoffRate: number; JitterStrategy?: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath: string }>;
  Choices?: Array<{ Next: string }>;
  Default?: string;
}

/** The parts of CreateTrainingJob's parameters the tests read. */
interface TrainingJobParameters {
  ResourceConfig: { InstanceType: string };
  HyperParameters: Record<string, string>;
  AlgorithmSpecification: {
    TrainingImage: string;
    MetricDefinitions: Array<{ Name: string; Regex: string }>;
  };
  InputDataConfig: Array<{ ChannelName: string }>;
  VpcConfig: { Subnets: unknown[] };
  EnableManagedSpotTraining: boolean;
  CheckpointConfig?: Record<string, string>;
  StoppingCondition: { MaxRuntimeInSeconds: number; MaxWaitTimeInSeconds?: number };
}

/** The state machine's definition, with CloudFormation references flattened to `<ref>`. */
function definition(template: Template): { StartAt: string; States: Record<string, State> } {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '<ref>')).join(''));
}

/** States in the order the happy path visits them, following Next and the first matching choice. */
function happyPath(def: ReturnType<typeof definition>, choose: Record<string, string>): string[] {
  const path: string[] = [];
  let name: string | undefined = def.StartAt;
  while (name && path.length < 50) {
    path.push(name);
    const state: State = def.States[name];
    name = state.Type === 'Choice' ? choose[name] : state.Next;
  }
  return path;
}

describe.each(DESIGNS_AND_PROFILES)(
  'PipelineStack of %s (%s): the training state machine',
  (design, profile) => {
    const built = builtForCollection(() => {
      const app = appUnderTest(design, profile);
      return { pipeline: app.template('Pipeline'), config: app.config };
    });
    if (!built) return;
    const { pipeline, config } = built;
    const def = definition(pipeline);

    test("trains, gates, registers, deploys, waits, runs the design's step, records the champion, in that order", () => {
      const twoVariants = config.profile.endpoint.kind === 'instances';
      const designStep = afterPromotionStates(def);
      // A warm-starting design looks up the champion's model first and records the new one.
      const warm = 'FindChampion' in def.States;
      expect(
        happyPath(def, {
          GateDecision: 'Register',
          DeploymentStatus: designStep[0] ?? 'RecordChampion',
        }),
      ).toEqual([
        'NameRun',
        ...(warm ? ['FindChampion', 'WarmStart'] : []),
        'Train',
        'Evaluate',
        'GateDecision',
        'Register',
        'CreateModel',
        ...(twoVariants ? ['DescribeEndpoint', 'DescribeEndpointConfig'] : []),
        'CreateEndpointConfig',
        'UpdateEndpoint',
        'WaitForDeployment',
        'PollEndpoint',
        'DeploymentStatus',
        ...designStep,
        ...(warm ? ['ChampionModel', 'RecordChampionModel'] : []),
        'RecordChampion',
        'NotifyPromoted',
        'Promoted',
      ]);
    });

    test('every task retries throttling with jittered backoff and catches every error into one failure path', () => {
      const tasks = Object.entries(def.States).filter(([, s]) => s.Type === 'Task');
      expect(tasks.length).toBeGreaterThanOrEqual(10);
      for (const [name, state] of tasks) {
        const throttling = state.Retry?.find((r) => r.ErrorEquals.includes('ThrottlingException'));
        expect({ name, throttling }).toEqual({
          name,
          throttling: expect.objectContaining({
            ErrorEquals: expect.arrayContaining([
              'SageMaker.ThrottlingException',
              'Lambda.TooManyRequestsException',
            ]),
            BackoffRate: 2,
            JitterStrategy: 'FULL',
          }),
        });
        if (name === 'NotifyFailure') continue;
        // No champion recorded yet is the first run, not a failure: caught before the catch-all.
        const coldStart =
          name === 'FindChampion'
            ? [{ ErrorEquals: ['S3.NoSuchKeyException'], Next: 'ColdStart', ResultPath: null }]
            : [];
        expect({ name, catch: state.Catch }).toEqual({
          name,
          catch: [
            ...coldStart,
            { ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' },
          ],
        });
      }
      expect(def.States.RecordFailure.Next).toBe('NotifyFailure');
      expect(def.States.NotifyFailure.Next).toBe('PipelineFailed');
      expect(def.States.PipelineFailed.Type).toBe('Fail');
    });

    test('the gate decides: promote deploys, reject ends without promoting, anything else fails', () => {
      const gate = def.States.GateDecision as unknown as {
        Default: string;
        Choices: Array<{ Variable: string; StringEquals: string; Next: string }>;
      };
      expect(gate.Choices.map((c) => [c.Variable, c.StringEquals, c.Next])).toEqual([
        ['$.gate.decision', 'promote', 'Register'],
        ['$.gate.decision', 'reject', 'NotifyRejected'],
      ]);
      expect(gate.Default).toBe('InvalidMetrics');
      expect(def.States.NotifyRejected.Next).toBe('NotPromoted');
      expect(def.States.NotPromoted.Type).toBe('Succeed');
      expect(def.States.InvalidMetrics.Next).toBe('RecordFailure');
    });

    test('waits for the deployment with a poll loop and treats a rollback as a failure', () => {
      const status = def.States.DeploymentStatus as State & { Choices: Array<Record<string, unknown>> };
      expect(status.Default).toBe('WaitForDeployment');
      expect(def.States.WaitForDeployment.Next).toBe('PollEndpoint');
      expect(status.Choices.map((c) => c.Next)).toEqual([
        afterPromotionStates(def)[0] ?? 'RecordChampion',
        'RolledBack',
        'DeploymentFailed',
      ]);
      expect(def.States.PollEndpoint.Resource).toMatch(/aws-sdk:sagemaker:describeEndpoint$/);
      expect(def.States.UpdateEndpoint.Resource).toMatch(/aws-sdk:sagemaker:updateEndpoint$/);
    });

    test('trains on a GPU in script mode, from the packed sources, inside the VPC', () => {
      const train = def.States.Train;
      expect(train.Resource).toBe('arn:<ref>:states:::sagemaker:createTrainingJob.sync');
      const p = train.Parameters as unknown as TrainingJobParameters;
      expect(p.ResourceConfig.InstanceType).toBe(config.profile.training.instanceType);
      expect(p.ResourceConfig.InstanceType).toMatch(/^ml\.(g5|g6|p4d|p5)\./);
      expect(p.HyperParameters).toMatchObject({
        sagemaker_program: 'train.py',
        // The S3 URI of the packed sources (an asset, so a reference here).
        sagemaker_submit_directory: '<ref>',
        // The design's hyperparameters, passed as they are.
        ...config.design.model.hyperparameters,
      });
      expect(p.AlgorithmSpecification.TrainingImage).toMatch(
        /pytorch-training:2\.8\.0-gpu-py312-cu129-ubuntu22\.04-sagemaker$/,
      );
      expect(p.AlgorithmSpecification.MetricDefinitions).toContainEqual({
        Name: config.design.model.gate.metric,
        Regex: `metric: ${config.design.model.gate.metric}=([-+0-9.eE]+)`,
      });
      const channels = (list: { ChannelName: string }[]) => list.map((c) => c.ChannelName);
      if (config.design.model.warmStart) {
        // Chosen at run time: the snapshot's channels, plus the champion's model once there is one.
        expect(train.Parameters).toMatchObject({ 'InputDataConfig.$': '$.inputs.channels' });
        const warm = def.States.WarmStart.Parameters as { channels: { ChannelName: string }[] };
        const cold = (def.States.ColdStart as unknown as { Result: { channels: { ChannelName: string }[] } })
          .Result;
        expect(channels(warm.channels)).toEqual(['train', 'validation', 'champion']);
        expect(channels(cold.channels)).toEqual(['train', 'validation']);
      } else {
        expect(channels(p.InputDataConfig)).toEqual(['train', 'validation']);
      }
      expect(p.VpcConfig.Subnets).toHaveLength(2);
      expect(p.EnableManagedSpotTraining).toBe(config.profile.training.spot);
      if (config.profile.training.spot) {
        expect(p.CheckpointConfig?.['S3Uri.$']).toMatch(/checkpoints\/\{\}\//);
        expect(p.StoppingCondition.MaxWaitTimeInSeconds).toBeGreaterThan(
          p.StoppingCondition.MaxRuntimeInSeconds,
        );
      } else {
        expect(p.CheckpointConfig).toBeUndefined();
      }
    });

    test('names every run after the design, so two designs in one account never share names', () => {
      const prefix = config.runNamePrefix;
      expect(def.States.NameRun.Parameters).toEqual({
        'jobName.$': `States.Format('${prefix}-{}', States.UUID())`,
      });
      // A UUID is 36 characters and SageMaker names are at most 63.
      expect(`${prefix}-`.length + 36).toBeLessThanOrEqual(63);
    });

    test('asks for a volume KMS key only on instances without local NVMe storage', () => {
      const p = def.States.Train.Parameters as unknown as { ResourceConfig: Record<string, unknown> };
      // ml.g5 has local NVMe storage, encrypted by the instance: SageMaker rejects a key for it.
      expect(config.profile.training.instanceType).toMatch(/^ml\.g5\./);
      expect(p.ResourceConfig.VolumeKmsKeyId).toBeUndefined();
    });

    test('writes checkpoints only where a spot instance may be reclaimed', () => {
      const p = def.States.Train.Parameters as unknown as TrainingJobParameters;
      if (config.profile.training.spot) expect(p.HyperParameters['checkpoint-dir']).toBeUndefined();
      else expect(p.HyperParameters['checkpoint-dir']).toBe('');
    });

    test("the gate judges by the design's metric, direction and range, and the registry keeps the design's description", () => {
      const gates = pipeline.findResources('AWS::Lambda::Function', {
        Properties: { Description: 'Decides whether a trained candidate replaces the champion' },
      });
      const [gate] = Object.values(gates);
      expect(gate.Properties.Environment.Variables).toMatchObject(gateEnvironment(config.design.model.gate));
      expect(gate.Properties.Environment.Variables.GATE_DIRECTION).toBe(config.design.model.gate.direction);
      const [group] = Object.values(pipeline.findResources('AWS::SageMaker::ModelPackageGroup'));
      expect(group.Properties.ModelPackageGroupDescription).toBe(
        config.design.model.registryDescription ?? 'Models that passed the evaluation gate',
      );
    });

    test("every state of the design's step after a promotion has the pipeline's retries and catch-all", () => {
      for (const name of afterPromotionStates(def)) {
        const state = def.States[name];
        if (state.Type !== 'Task') continue;
        expect({ name, catch: state.Catch }).toEqual({
          name,
          catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' }],
        });
      }
    });

    test('registers the package with the metadata the gate built for the registry, not free text', () => {
      expect(def.States.Register.Parameters).toMatchObject({
        'CustomerMetadataProperties.$': '$.gate.registryMetadata',
      });
      // The candidate's training job: the run's own, or the best trial of its tuning job.
      expect(def.States.Evaluate.Parameters).toMatchObject({ 'trainingJob.$': '$.training.jobName' });
    });

    test('creates models the hosting supports: network isolation only on instances', () => {
      expect(def.States.CreateModel.Parameters).toMatchObject({
        EnableNetworkIsolation: config.profile.endpoint.kind === 'instances',
      });
    });

    test('rolls trained models out on the hosting the endpoint was built with: instance type and workers', () => {
      const scaling = config.capacity.endpointScaling;
      const model = def.States.CreateModel.Parameters as {
        PrimaryContainer: { Environment: Record<string, string> };
      };
      const variants = (
        def.States.CreateEndpointConfig.Parameters as { ProductionVariants: { InstanceType?: string }[] }
      ).ProductionVariants;
      if (!scaling) {
        expect(model.PrimaryContainer.Environment.SAGEMAKER_MODEL_SERVER_WORKERS).toBeUndefined();
        expect(variants.every((v) => v.InstanceType === undefined)).toBe(true);
        return;
      }
      expect(model.PrimaryContainer.Environment.SAGEMAKER_MODEL_SERVER_WORKERS).toBe(
        String(scaling.workersPerInstance),
      );
      expect(variants.map((v) => v.InstanceType)).toEqual(
        config.design.abVariants.map(() => scaling.instanceType),
      );
    });

    test('rolls out in API casing: guardrails, data capture and scaled instance counts carried over', () => {
      const update = def.States.UpdateEndpoint.Parameters as Record<string, unknown>;
      const create = def.States.CreateEndpointConfig.Parameters as Record<string, unknown>;
      if (config.profile.endpoint.kind === 'serverless') {
        expect(update.DeploymentConfig).toBeUndefined();
        expect(update.RetainAllVariantProperties).toBeUndefined();
        expect(create.DataCaptureConfig).toBeUndefined();
        return;
      }
      expect(update.DeploymentConfig).toMatchObject({
        BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'CANARY' } },
        AutoRollbackConfiguration: { Alarms: expect.any(Array) },
      });
      expect(JSON.stringify(update)).not.toMatch(/"[a-z]\w*":/);
      expect(update.RetainAllVariantProperties).toBe(true);
      expect(update.ExcludeRetainedVariantProperties).toEqual([
        { VariantPropertyType: 'DesiredWeight' },
        { VariantPropertyType: 'DataCaptureConfig' },
      ]);
      expect(create.DataCaptureConfig).toMatchObject({
        EnableCapture: true,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      });
    });

    test('a failed rollback ends the run instead of polling until the execution times out', () => {
      const status = def.States.DeploymentStatus as unknown as {
        Choices: Array<{ Or?: Array<{ StringEquals: string }>; Next: string }>;
      };
      const failed = status.Choices.find((c) => c.Next === 'DeploymentFailed');
      expect(failed?.Or?.map((c) => c.StringEquals).sort()).toEqual(
        ['Deleting', 'Failed', 'OutOfService', 'UpdateRollbackFailed'].sort(),
      );
    });

    test('the state machine may use the key of the topic it notifies and the bucket it writes', () => {
      const statements = Object.values(
        pipeline.findResources('AWS::IAM::Policy', {
          Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^TrainingStateMachineRole') }] },
        }),
      ).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const kms = statements.filter((s) => [s.Action].flat().includes('kms:GenerateDataKey'));
      expect(kms).not.toHaveLength(0);
      expect(statements.some((s) => [s.Action].flat().includes('kms:Decrypt'))).toBe(true);
    });

    test('the schedule runs on the retraining cadence, enabled per profile', () => {
      pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: scheduler.ScheduleExpression.rate(
          Duration.hours(config.design.requirements.retrainEveryHours),
        ).expressionString,
        State: config.profile.training.scheduleEnabled ? 'ENABLED' : 'DISABLED',
      });
    });
  },
);

describe.each(DESIGNS_AND_PROFILES.filter(([, profile]) => profile === 'sandbox').map(([design]) => design))(
  'PipelineStack of %s: least privilege',
  (design) => {
    const built = builtForCollection(() => {
      const app = appUnderTest(design, 'sandbox');
      return { pipeline: app.template('Pipeline'), config: app.config };
    });
    if (!built) return;
    const { pipeline, config } = built;

    function statementsOf(rolePrefix: string): Array<{ Action: string | string[]; Resource: unknown }> {
      const policies = pipeline.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
      });
      return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    }

    test('training jobs pull images from the DLC account of the region, not their own', () => {
      const ecr = statementsOf('TrainingTrainingRole').find((s) =>
        String(s.Action).includes('ecr:BatchGetImage'),
      );
      expect(JSON.stringify(ecr?.Resource)).toMatch(/DlcRegistryAccounts/);
      expect(JSON.stringify(ecr?.Resource)).toMatch(/repository\/pytorch-training/);
      expect(JSON.stringify(ecr?.Resource)).not.toMatch(/AWS::AccountId/);
    });

    test('training jobs read the training prefix and write only models and checkpoints', () => {
      const s3Writes = statementsOf('TrainingTrainingRole').filter((s) =>
        [s.Action].flat().includes('s3:PutObject'),
      );
      // Object ARNs are joins of the bucket ARN and a key pattern; the bare bucket ARN is for listing.
      const objects = s3Writes
        .flatMap((s) => [s.Resource].flat())
        .map((r) => JSON.stringify(r))
        .filter((r) => r.includes('Fn::Join'));
      expect(objects.map((r) => r.match(/"\/([a-z-]+)\/\*"/)?.[1]).sort()).toEqual(['checkpoints', 'models']);
    });

    test('the state machine creates only the jobs, models and configs it names', () => {
      const create = statementsOf('TrainingStateMachineRole').find((s) =>
        [s.Action].flat().includes('sagemaker:CreateTrainingJob'),
      );
      expect(JSON.stringify(create?.Resource)).toContain(`training-job/${config.runNamePrefix}-*`);
    });

    test('the state machine may read the rollback alarms, as deployment guardrails require', () => {
      const production = appUnderTest(design, 'production').template('Pipeline');
      const statements = Object.values(production.findResources('AWS::IAM::Policy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement,
      );
      const describe = statements.find((s) => [s.Action].flat().includes('cloudwatch:DescribeAlarms'));
      expect(describe).toBeDefined();
      expect(JSON.stringify(describe.Resource)).not.toBe('"*"');
    });

    test('the sandbox registry goes with the stack, after a cleanup deletes its package versions', () => {
      const groups = pipeline.findResources('AWS::SageMaker::ModelPackageGroup');
      const [[groupId, group]] = Object.entries(groups);
      expect(group.DeletionPolicy).toBe('Delete');
      const [cleanup] = Object.values(pipeline.findResources('Custom::SageMakerRunCleanup'));
      expect(cleanup.Properties).toMatchObject({
        NamePrefix: config.runNamePrefix,
        ModelPackageGroupName: group.Properties.ModelPackageGroupName,
        TrainingLogStreams: 'true',
      });
      // Created after the group, so deleted before it: SageMaker refuses to delete a group that holds packages.
      expect(cleanup.DependsOn).toEqual(expect.arrayContaining([groupId]));
    });

    test('the production registry is kept on destroy under a name a redeploy cannot collide with', () => {
      const production = appUnderTest(design, 'production').template('Pipeline');
      const [group] = Object.values(production.findResources('AWS::SageMaker::ModelPackageGroup'));
      expect(group.DeletionPolicy).toBe('Retain');
      // Unique per stack creation: a group retained by an earlier stack keeps its own name.
      expect(JSON.stringify(group.Properties.ModelPackageGroupName)).toMatch(/AWS::StackId/);
      production.resourceCountIs('Custom::SageMakerRunCleanup', 0);
    });
  },
);
