import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { dlcRegistryAccounts } from '../../lib/platform/constructs/ml/dlc-image';
import { MlStack } from '../../lib/platform/stacks/ml-stack';
import { validateRequest } from '../support/aws-api-model';
import { appUnderTest, DESIGN_IDS } from './app-under-test';
import { builtForCollection } from './collect';
import type { ProfileName } from '../../lib/platform/config/profile';

/** The templates and config of one design's app, or undefined (one failing test) when it does not build. */
function view(design: string, profile: ProfileName) {
  return builtForCollection(() => {
    const built = appUnderTest(design, profile);
    return { config: built.config, stacks: built.stacks, ml: built.template('Ml') };
  });
}

describe.each(DESIGN_IDS)('%s', (design) => {
  describe('MlStack in the sandbox: a serverless endpoint', () => {
    const built = view(design, 'sandbox');
    if (!built) return;
    const { ml, config, stacks } = built;

    test('serves the champion variant alone, serverless, so it costs nothing while idle', () => {
      ml.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        ProductionVariants: [
          {
            VariantName: 'champion',
            InitialVariantWeight: 1,
            ModelName: Match.anyValue(),
            ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
          },
        ],
        DataCaptureConfig: Match.absent(),
      });
      ml.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
      ml.hasResourceProperties('AWS::SageMaker::Endpoint', { DeploymentConfig: Match.absent() });
    });

    test('comes up on the bootstrap model: the CPU inference image, handlers from code/inference.py', () => {
      ml.hasResourceProperties('AWS::SageMaker::Model', {
        // Serverless Inference excludes network isolation: a model that asks for it fails the deploy.
        EnableNetworkIsolation: false,
        PrimaryContainer: {
          Image: {
            'Fn::Join': [
              '',
              Match.arrayWith([
                { 'Fn::FindInMap': ['DlcRegistryAccounts', { Ref: 'AWS::Region' }, 'account'] },
                '/pytorch-inference:2.6.0-cpu-py312-ubuntu22.04-sagemaker',
              ]),
            ],
          },
          // ModelDataUrl: serverless endpoints do not accept ModelDataSource. A .tar.gz key, staged
          // from the asset (whose key ends in .gz).
          ModelDataUrl: {
            'Fn::Join': [
              '',
              Match.arrayWith([Match.stringLikeRegexp('^/models/bootstrap/[0-9a-f]{64}/model\\.tar\\.gz$')]),
            ],
          },
          Environment: Match.objectLike({
            SAGEMAKER_PROGRAM: 'inference.py',
            SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
          }),
        },
      });
    });

    test('owns the endpoint log group SageMaker writes to, with the profile retention, deleted on destroy', () => {
      const [endpoint] = Object.values(ml.findResources('AWS::SageMaker::Endpoint'));
      const groups = ml.findResources('AWS::Logs::LogGroup', {
        Properties: {
          LogGroupName: { 'Fn::Join': ['', ['/aws/sagemaker/Endpoints/', endpoint.Properties.EndpointName]] },
        },
      });
      const [[logGroupId, logGroup]] = Object.entries(groups);
      expect(logGroup).toMatchObject({ Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Delete' });
      expect(endpoint.DependsOn).toEqual(expect.arrayContaining([logGroupId]));
    });

    test('on destroy, deletes the models and endpoint configs of training runs, after the endpoint is gone', () => {
      const cleanups = ml.findResources('Custom::SageMakerRunCleanup');
      const [[cleanupId, cleanup]] = Object.entries(cleanups);
      expect(cleanup.Properties).toMatchObject({
        NamePrefix: config.runNamePrefix,
        ModelsAndEndpointConfigs: 'true',
      });
      const [endpoint] = Object.values(ml.findResources('AWS::SageMaker::Endpoint'));
      // The endpoint depends on the cleanup, so CloudFormation deletes the endpoint first: a config
      // in use by a live endpoint must not be deleted.
      expect(endpoint.DependsOn).toEqual(expect.arrayContaining([cleanupId]));
      const statements = Object.values(ml.findResources('AWS::IAM::Policy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement,
      );
      const deletes = statements.find((s) => [s.Action].flat().includes('sagemaker:DeleteModel'));
      expect(JSON.stringify(deletes.Resource)).toContain(`:model/${config.runNamePrefix}-*`);
      expect(JSON.stringify(deletes.Resource)).toContain(`:endpoint-config/${config.runNamePrefix}-*`);
    });

    test("resolves the DLC registry account per region from a mapping of aws-cdk-lib's facts and the regions they lack", () => {
      const mapping = ml.toJSON().Mappings.DlcRegistryAccounts;
      expect(mapping['us-east-1']).toEqual({ account: '763104351884' });
      expect(mapping['af-south-1']).toEqual({ account: '626614931356' });
      expect(mapping['ap-east-1']).toEqual({ account: '871362719292' });
      expect(mapping['il-central-1']).toEqual({ account: '780543022126' });
      expect(Object.keys(mapping).sort()).toEqual(Object.keys(dlcRegistryAccounts()).sort());
    });

    test('the model role reads the bootstrap object and trained models only, and pulls only the inference repository', () => {
      const policies = Object.values(ml.findResources('AWS::IAM::Policy'));
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
      const pull = statements.find((s) => [s.Action].flat().includes('ecr:BatchGetImage'));
      expect(JSON.stringify(pull.Resource)).toMatch(/repository\/pytorch-inference"/);
      const objects = statements
        .filter((s) => [s.Action].flat().includes('s3:GetObject*'))
        .flatMap((s) => [s.Resource].flat())
        .map((r) => JSON.stringify(r))
        .filter((r) => r.includes('Fn::Join'));
      expect(
        objects.map((r) => r.match(/"\/([^"]+)"\]\]\}$/)?.[1]?.replace(/[0-9a-f]{64}/, '<asset>')).sort(),
      ).toEqual(['models/*', 'models/bootstrap/<asset>/model.tar.gz']);
    });

    test("the first model is the design's bootstrap archive, staged under its content hash", () => {
      const stack = Object.values(stacks).find((candidate) => candidate instanceof MlStack) as MlStack;
      const hash = stack.bootstrapModel.bundle.asset.assetHash;
      expect(JSON.stringify(ml.findResources('Custom::AWS'))).toContain(
        `models/bootstrap/${hash}/model.tar.gz`,
      );
    });

    test('stages the bootstrap model under a .tar.gz key before the model is created', () => {
      const [[stageId, stage]] = Object.entries(ml.findResources('Custom::AWS'));
      const create = JSON.stringify(stage.Properties.Create);
      expect(create).toMatch(/\\"service\\":\\"S3\\",\\"action\\":\\"copyObject\\"/);
      expect(create).toMatch(/models\/bootstrap\/[0-9a-f]{64}\/model\.tar\.gz/);
      const [model] = Object.values(ml.findResources('AWS::SageMaker::Model'));
      expect(model.DependsOn).toEqual(expect.arrayContaining([stageId]));
      // The call itself, with CloudFormation references as plain names, is one S3 accepts.
      const parts = stage.Properties.Create['Fn::Join'][1] as unknown[];
      const call = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ref')).join(''));
      expect(validateRequest('s3', 'CopyObject', call.parameters)).toEqual([]);
    });
  });

  describe('MlStack in production: A/B variants on the instances chosen from the model’s cost', () => {
    const built = view(design, 'production');
    if (!built) return;
    const { ml, config, stacks } = built;
    const scaling = config.capacity.endpointScaling!;
    const hardware = config.capacity.endpointHardware!;

    test('serves champion and challenger with the configured weights on the chosen instance type', () => {
      // The measured cost per request picks the type (lib/platform/config/endpoint-hardware.ts).
      expect(scaling.instanceType).toBe(hardware.instanceType);
      ml.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        ProductionVariants: config.design.abVariants.map((v) => ({
          VariantName: v.name,
          InitialVariantWeight: v.weight,
          InstanceType: hardware.instanceType,
          InitialInstanceCount: scaling.minInstances,
          ModelName: Match.anyValue(),
        })),
      });
      expect([scaling.minInstances, scaling.maxInstances]).toEqual([
        hardware.minInstances,
        hardware.maxInstances,
      ]);
    });

    test('warns at synth exactly where no instance answers within the model’s latency budget', () => {
      const stack = Object.values(stacks).find((candidate) => candidate instanceof MlStack) as MlStack;
      const warnings = Annotations.fromStack(stack).findWarning(
        '*',
        Match.stringLikeRegexp('no endpoint instance answers within'),
      );
      expect(warnings.length > 0).toBe(!hardware.meetsLatency);
    });

    test('runs the inference image of the chosen instance (GPU only on a GPU), with as many workers as it holds', () => {
      const accelerator = hardware.gpus > 0 ? 'gpu' : 'cpu';
      ml.hasResourceProperties('AWS::SageMaker::Model', {
        PrimaryContainer: Match.objectLike({
          Image: {
            'Fn::Join': [
              '',
              Match.arrayWith([Match.stringLikeRegexp(`pytorch-inference:2\\.6\\.0-${accelerator}-`)]),
            ],
          },
          Environment: Match.objectLike({
            SAGEMAKER_MODEL_SERVER_WORKERS: String(hardware.workersPerInstance),
          }),
        }),
      });
    });

    test('captures JSON requests and responses to the data-capture prefix, encrypted', () => {
      ml.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
        DataCaptureConfig: {
          EnableCapture: true,
          InitialSamplingPercentage: 100,
          DestinationS3Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['/data-capture/'])] }),
          KmsKeyId: Match.anyValue(),
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
        },
      });
    });

    test('deploys blue/green with a canary and rolls back on its alarms', () => {
      // The guardrail alarms watch one metric each; a drift alarm (Model Monitor) is metric math.
      const alarms = Object.entries(ml.findResources('AWS::CloudWatch::Alarm'))
        .filter(([, alarm]) => alarm.Properties.Namespace !== undefined)
        .map(([id]) => id);
      expect(alarms).toHaveLength(config.design.abVariants.length * 2);
      ml.hasResourceProperties('AWS::SageMaker::Endpoint', {
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: {
              Type: 'CANARY',
              CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 },
              WaitIntervalInSeconds: 300,
            },
            TerminationWaitInSeconds: 300,
            MaximumExecutionTimeoutInSeconds: 3600,
          },
          AutoRollbackConfiguration: {
            Alarms: alarms.map((id) => ({ AlarmName: { Ref: id } })),
          },
        },
      });
      ml.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Invocation5XXErrors',
        Namespace: 'AWS/SageMaker',
        Dimensions: Match.arrayWith([{ Name: 'VariantName', Value: 'challenger' }]),
      });
    });

    test('the rollback alarms and the scaling targets name the endpoint CloudFormation creates', () => {
      const [[endpointId, endpoint]] = Object.entries(ml.findResources('AWS::SageMaker::Endpoint'));
      const name = endpoint.Properties.EndpointName;
      // Unique per stack creation, so the log group production keeps cannot collide with the next one.
      expect(JSON.stringify(name)).toMatch(/AWS::StackId/);
      const alarms = Object.values(ml.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms.length).toBeGreaterThan(0);
      for (const alarm of alarms) {
        if (alarm.Properties.Namespace !== undefined) {
          expect(alarm.Properties.Dimensions).toEqual(
            expect.arrayContaining([{ Name: 'EndpointName', Value: name }]),
          );
          continue;
        }
        // Model Monitor's metrics name the endpoint as `Endpoint` (its name read back from it).
        const watched = (alarm.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: unknown[] } } }[])
          .filter((query) => query.MetricStat !== undefined)
          .map((query) => query.MetricStat!.Metric.Dimensions);
        expect(watched.length).toBeGreaterThan(0);
        for (const dimensions of watched) {
          expect(dimensions).toEqual(
            expect.arrayContaining([
              { Name: 'Endpoint', Value: { 'Fn::GetAtt': [endpointId, 'EndpointName'] } },
            ]),
          );
        }
      }
      for (const target of Object.values(ml.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))) {
        expect(JSON.stringify(target.Properties.ResourceId)).toContain(JSON.stringify(name));
      }
    });

    test('a stack update keeps the instance counts auto-scaling set, and takes weights and capture from the config', () => {
      ml.hasResourceProperties('AWS::SageMaker::Endpoint', {
        RetainAllVariantProperties: true,
        ExcludeRetainedVariantProperties: [
          { VariantPropertyType: 'DesiredWeight' },
          { VariantPropertyType: 'DataCaptureConfig' },
        ],
      });
    });

    test('the model may use network isolation on instances, which support it', () => {
      ml.hasResourceProperties('AWS::SageMaker::Model', { EnableNetworkIsolation: true });
    });

    test('keeps no run cleanup: production keeps its models, configs and registry', () => {
      ml.resourceCountIs('Custom::SageMakerRunCleanup', 0);
    });

    test('scales each variant on invocations per instance, within the derived range', () => {
      for (const variant of config.design.abVariants) {
        ml.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
          ServiceNamespace: 'sagemaker',
          ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
          ResourceId: {
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`/variant/${variant.name}$`)])],
          },
          MinCapacity: scaling.minInstances,
          MaxCapacity: scaling.maxInstances,
        });
      }
      ml.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          TargetValue: scaling.targetInvocationsPerInstancePerMinute,
        }),
      });
    });

    test('scaling targets depend on the endpoint, so destroy deregisters them first', () => {
      const targets = Object.values(ml.findResources('AWS::ApplicationAutoScaling::ScalableTarget'));
      for (const target of targets) {
        expect(target.DependsOn).toEqual(
          expect.arrayContaining([expect.stringMatching(/^Endpoint[0-9A-F]{8}$/)]),
        );
      }
    });
  });

  describe('DataStack', () => {
    test.each([
      ['sandbox', 'Delete', true],
      ['production', 'Retain', false],
    ] as const)(
      '%s: KMS-encrypted, TLS-only artefacts bucket with access logs (%s)',
      (profile, policy, emptied) => {
        const data = appUnderTest(design, profile).template('Data');
        data.hasResource('AWS::S3::Bucket', {
          Properties: Match.objectLike({
            BucketEncryption: {
              ServerSideEncryptionConfiguration: [
                Match.objectLike({
                  BucketKeyEnabled: true,
                  ServerSideEncryptionByDefault: {
                    SSEAlgorithm: 'aws:kms',
                    KMSMasterKeyID: Match.anyValue(),
                  },
                }),
              ],
            },
            LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
            PublicAccessBlockConfiguration: Match.objectLike({
              BlockPublicAcls: true,
              RestrictPublicBuckets: true,
            }),
          }),
          DeletionPolicy: policy,
        });
        data.hasResourceProperties('AWS::S3::BucketPolicy', {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
        data.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
        // Every bucket (artefacts, raw events, the event lake where there is one, their access logs)
        // is emptied before deletion in the sandbox, so `cdk destroy` leaves nothing.
        const buckets = Object.keys(data.findResources('AWS::S3::Bucket')).length;
        expect(buckets).toBeGreaterThanOrEqual(4);
        data.resourceCountIs('Custom::S3AutoDeleteObjects', emptied ? buckets : 0);
      },
    );
  });
});
