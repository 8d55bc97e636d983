/**
 * The cost model of each resource type that bills while idle, on small hand-built stacks: the idle
 * figure follows from the resource's properties and the price table, a type without a model is
 * reported as unknown (never dropped), and the sandbox goal names what puts a total above it.
 */
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { cadence } from '../../../lib/platform/pricing/cadence';
import {
  checkGoal,
  estimate,
  type Estimate,
  type ResourceCost,
} from '../../../lib/platform/pricing/estimate';
import { SAGEMAKER_INSTANCES } from '../../../lib/platform/pricing/sagemaker-instances';
import { stackTemplates } from '../../../lib/platform/pricing/synthesized';
import { HOURS_PER_MONTH, PRICES } from '../../../lib/platform/pricing/us-east-1';

const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** The estimate of one stack that `build` fills. */
function estimateOf(build: (stack: Stack) => void): Estimate {
  const app = new App();
  const stack = new Stack(app, 'Small');
  build(stack);
  return estimate(stackTemplates(app, [stack]));
}

function resource(result: Estimate, path: string): ResourceCost {
  const found = result.stacks.flatMap((s) => s.resources).find((r) => r.path === path);
  if (!found)
    throw new Error(
      `no resource at ${path}; have ${result.stacks.flatMap((s) => s.resources.map((r) => r.path)).join(', ')}`,
    );
  return found;
}

const VPC_ID = 'vpc-0123456789abcdef0';
const subnetIds = (n: number) => Array.from({ length: n }, (_, i) => `subnet-0123456789abcdef${i}`);

describe('VPC endpoints', () => {
  it('bills an interface endpoint per AZ-hour in each of its subnets', () => {
    // GIVEN an interface endpoint in 2 subnets
    const result = estimateOf((stack) => {
      new ec2.CfnVPCEndpoint(stack, 'Runtime', {
        vpcId: VPC_ID,
        serviceName: 'com.amazonaws.us-east-1.sagemaker.runtime',
        vpcEndpointType: 'Interface',
        subnetIds: subnetIds(2),
      });
    });
    // THEN it idles at 2 x 730 h x the AZ-hour price
    const endpoint = resource(result, 'Runtime');
    expect(endpoint.idleMonthly).toBeCloseTo(2 * HOURS_PER_MONTH * PRICES.interfaceEndpointAzHour.usd, 6);
    expect(endpoint.status).toBe('idle');
    expect(endpoint.rates).toContainEqual({
      usd: PRICES.interfaceEndpointGb.usd,
      per: PRICES.interfaceEndpointGb.unit,
    });
  });

  it('leaves a gateway endpoint free', () => {
    const result = estimateOf((stack) => {
      new ec2.CfnVPCEndpoint(stack, 'S3', {
        vpcId: VPC_ID,
        serviceName: 'com.amazonaws.us-east-1.s3',
        vpcEndpointType: 'Gateway',
      });
    });
    expect(resource(result, 'S3')).toMatchObject({ idleMonthly: 0, status: 'free' });
  });
});

describe('SageMaker endpoint configs', () => {
  const model = (stack: Stack) =>
    new sagemaker.CfnModel(stack, 'Model', { executionRoleArn: 'arn:aws:iam::123456789012:role/r' });

  function served(stack: Stack, variants: sagemaker.CfnEndpointConfig.ProductionVariantProperty[]) {
    const config = new sagemaker.CfnEndpointConfig(stack, 'Config', { productionVariants: variants });
    new sagemaker.CfnEndpoint(stack, 'Endpoint', {
      endpointConfigName: config.attrEndpointConfigName,
      endpointName: 'ep',
    });
    return config;
  }

  it('costs nothing idle when serverless, and prices an hour of inference by its memory', () => {
    // GIVEN a serverless endpoint config with 2 GB that an endpoint serves
    const result = estimateOf((stack) => {
      served(stack, [
        {
          variantName: 'champion',
          modelName: model(stack).attrModelName,
          serverlessConfig: { maxConcurrency: 5, memorySizeInMb: 2048 },
        },
      ]);
    });
    // THEN it idles at $0 and bills 2 GB x 3600 s an hour of inference
    const config = resource(result, 'Config');
    expect(config.idleMonthly).toBe(0);
    expect(config.status).toBe('per-use');
    expect(config.rates[0].usd).toBeCloseTo(2 * 3600 * PRICES.serverlessInferenceGbSecond.usd, 9);
  });

  it('bills every instance of every variant while an endpoint serves it', () => {
    // GIVEN two instance variants, 3 and 1 instances, served by an endpoint
    const result = estimateOf((stack) => {
      const name = model(stack).attrModelName;
      served(stack, [
        {
          variantName: 'champion',
          modelName: name,
          instanceType: 'ml.g5.xlarge',
          initialInstanceCount: 3,
          initialVariantWeight: 0.9,
        },
        {
          variantName: 'challenger',
          modelName: name,
          instanceType: 'ml.g5.xlarge',
          initialInstanceCount: 1,
          initialVariantWeight: 0.1,
        },
      ]);
    });
    // THEN it idles at 4 x the hosting price x 730 h
    expect(resource(result, 'Config').idleMonthly).toBeCloseTo(
      4 * SAGEMAKER_INSTANCES['ml.g5.xlarge'].hosting * HOURS_PER_MONTH,
      4,
    );
  });

  it('idles at the autoscaling minimum when a scalable target holds the variant', () => {
    // GIVEN 3 initial instances and a scalable target of 1-4 for the variant
    const result = estimateOf((stack) => {
      served(stack, [
        {
          variantName: 'champion',
          modelName: model(stack).attrModelName,
          instanceType: 'ml.m5.xlarge',
          initialInstanceCount: 3,
        },
      ]);
      new CfnResource(stack, 'Scaling', {
        type: 'AWS::ApplicationAutoScaling::ScalableTarget',
        properties: {
          MinCapacity: 1,
          MaxCapacity: 4,
          ResourceId: 'endpoint/ep/variant/champion',
          ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
          ServiceNamespace: 'sagemaker',
        },
      });
    });
    // THEN it idles at 1 instance
    expect(resource(result, 'Config').idleMonthly).toBeCloseTo(
      SAGEMAKER_INSTANCES['ml.m5.xlarge'].hosting * HOURS_PER_MONTH,
      4,
    );
  });

  it('bills nothing idle for a config no endpoint serves, and says so', () => {
    const result = estimateOf((stack) => {
      new sagemaker.CfnEndpointConfig(stack, 'Spare', {
        productionVariants: [
          { variantName: 'a', modelName: 'm', instanceType: 'ml.m5.xlarge', initialInstanceCount: 2 },
        ],
      });
    });
    const config = resource(result, 'Spare');
    expect(config.idleMonthly).toBe(0);
    expect(config.notes.join(' ')).toMatch(/no endpoint in the templates serves this config/);
  });

  it('reports an instance type without a price as unknown, with the reason', () => {
    const result = estimateOf((stack) => {
      served(stack, [
        {
          variantName: 'a',
          modelName: model(stack).attrModelName,
          instanceType: 'ml.p5.48xlarge',
          initialInstanceCount: 1,
        },
      ]);
    });
    expect(resource(result, 'Config')).toMatchObject({
      status: 'unknown',
      reason: expect.stringMatching(/ml\.p5\.48xlarge/),
    });
    expect(result.unknown.map((r) => r.path)).toEqual(['Config']);
  });
});

describe('Aurora Serverless v2', () => {
  function cluster(stack: Stack, minCapacity: number, instances: number) {
    const db = new rds.CfnDBCluster(stack, 'Cluster', {
      engine: 'aurora-postgresql',
      serverlessV2ScalingConfiguration: { minCapacity, maxCapacity: 4 },
    });
    for (let i = 0; i < instances; i++) {
      new rds.CfnDBInstance(stack, `Instance${i}`, {
        dbClusterIdentifier: db.ref,
        dbInstanceClass: 'db.serverless',
        engine: 'aurora-postgresql',
      });
    }
  }

  it('costs storage only at 0 ACU', () => {
    const result = estimateOf((stack) => cluster(stack, 0, 1));
    expect(result.totalMonthly).toBe(0);
    expect(resource(result, 'Cluster').rates[0]).toEqual({
      usd: PRICES.auroraStorageGbMonth.usd,
      per: PRICES.auroraStorageGbMonth.unit,
    });
  });

  it('bills the minimum ACU of every instance', () => {
    // GIVEN a writer and a reader at 0.5 ACU minimum
    const result = estimateOf((stack) => cluster(stack, 0.5, 2));
    // THEN each idles at 0.5 x the ACU-hour price x 730 h
    expect(resource(result, 'Instance0').idleMonthly).toBeCloseTo(
      0.5 * PRICES.auroraServerlessV2AcuHour.usd * HOURS_PER_MONTH,
      6,
    );
    expect(result.totalMonthly).toBeCloseTo(
      2 * 0.5 * PRICES.auroraServerlessV2AcuHour.usd * HOURS_PER_MONTH,
      6,
    );
  });
});

describe('ElastiCache Serverless', () => {
  it.each([
    ['valkey', PRICES.valkeyServerlessMinGb.usd * PRICES.valkeyServerlessGbHour.usd],
    ['redis', PRICES.redisServerlessMinGb.usd * PRICES.redisServerlessGbHour.usd],
  ])('bills the metered storage minimum of %s', (engine, perHour) => {
    const result = estimateOf((stack) => {
      new elasticache.CfnServerlessCache(stack, 'Cache', { engine, serverlessCacheName: 'c' });
    });
    expect(resource(result, 'Cache').idleMonthly).toBeCloseTo(perHour * HOURS_PER_MONTH, 6);
  });
});

describe('monthly charges', () => {
  it('bills a key, a secret and a dashboard per month, and names the free dashboards', () => {
    const result = estimateOf((stack) => {
      new CfnResource(stack, 'Key', {
        type: 'AWS::KMS::Key',
        properties: {
          KeyPolicy: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { AWS: '123456789012' }, Action: 'kms:*', Resource: '*' },
            ],
          },
        },
      });
      new CfnResource(stack, 'Secret', { type: 'AWS::SecretsManager::Secret', properties: {} });
      new cloudwatch.CfnDashboard(stack, 'Dashboard', { dashboardBody: '{}' });
    });
    expect(resource(result, 'Key').idleMonthly).toBe(PRICES.kmsKeyMonth.usd);
    expect(resource(result, 'Secret').idleMonthly).toBe(PRICES.secretMonth.usd);
    expect(resource(result, 'Dashboard')).toMatchObject({
      idleMonthly: PRICES.dashboardMonth.usd,
      notes: [expect.stringMatching(/first 3 dashboards/)],
    });
    expect(result.freeTierMonthly).toBe(PRICES.dashboardMonth.usd);
  });

  it('bills an alarm per metric it reads, at the high-resolution price below 60 s', () => {
    const result = estimateOf((stack) => {
      const metric = (name: string) => ({
        id: name,
        metricStat: { metric: { metricName: name, namespace: 'N' }, period: 60, stat: 'Sum' },
        returnData: false,
      });
      new cloudwatch.CfnAlarm(stack, 'Plain', {
        comparisonOperator: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        metricName: 'Errors',
        namespace: 'N',
        period: 60,
        statistic: 'Sum',
        threshold: 1,
      });
      new cloudwatch.CfnAlarm(stack, 'Math', {
        comparisonOperator: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        threshold: 1,
        metrics: [
          metric('a'),
          metric('b'),
          metric('c'),
          { id: 'e', expression: 'a + b + c', returnData: true },
        ],
      });
      new cloudwatch.CfnAlarm(stack, 'Fast', {
        comparisonOperator: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        metricName: 'Errors',
        namespace: 'N',
        period: 10,
        statistic: 'Sum',
        threshold: 1,
      });
    });
    expect(resource(result, 'Plain').idleMonthly).toBeCloseTo(PRICES.alarmMetricMonth.usd, 6);
    expect(resource(result, 'Math').idleMonthly).toBeCloseTo(3 * PRICES.alarmMetricMonth.usd, 6);
    expect(resource(result, 'Fast').idleMonthly).toBeCloseTo(PRICES.highResolutionAlarmMetricMonth.usd, 6);
    expect(resource(result, 'Plain').notes.join(' ')).toMatch(/first 10 standard alarm metrics are free/);
  });
});

describe('schedules', () => {
  const trainingDefinition = JSON.stringify({
    StartAt: 'Train',
    States: {
      Train: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync',
        Parameters: {
          ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
          StoppingCondition: { MaxRuntimeInSeconds: 14_400 },
        },
        End: true,
      },
    },
  });

  function scheduledTraining(stack: Stack, state: 'ENABLED' | 'DISABLED') {
    const machine = new sfn.CfnStateMachine(stack, 'Pipeline', {
      roleArn: 'arn:aws:iam::123456789012:role/r',
      definitionString: trainingDefinition,
    });
    new scheduler.CfnSchedule(stack, 'Daily', {
      scheduleExpression: 'rate(1 day)',
      flexibleTimeWindow: { mode: 'OFF' },
      state,
      target: { arn: machine.ref, roleArn: 'arn:aws:iam::123456789012:role/r' },
    });
  }

  it("counts what an enabled schedule starts, at the jobs' stopping conditions, as a recurring cost", () => {
    // GIVEN a daily schedule starting a 4-hour ml.g5.2xlarge training job
    const result = estimateOf((stack) => scheduledTraining(stack, 'ENABLED'));
    // THEN it costs at most 30.4 runs x 4 h x the training price a month, with its cadence
    const daily = resource(result, 'Daily');
    const perRun = 4 * SAGEMAKER_INSTANCES['ml.g5.2xlarge'].training;
    expect(daily.recurring).toMatchObject({ cadence: 'daily', perRun: expect.closeTo(perRun, 6) });
    expect(daily.scheduledMonthly).toBeCloseTo(DAYS_PER_MONTH * perRun, 4);
    expect(result.scheduledMonthly).toBeCloseTo(DAYS_PER_MONTH * perRun, 4);
    // AND the state machine names the training hour as a unit price
    expect(resource(result, 'Pipeline').rates).toContainEqual({
      usd: SAGEMAKER_INSTANCES['ml.g5.2xlarge'].training,
      per: 'training hour (ml.g5.2xlarge)',
    });
  });

  it('counts nothing for a disabled schedule', () => {
    const result = estimateOf((stack) => scheduledTraining(stack, 'DISABLED'));
    expect(resource(result, 'Daily')).toMatchObject({
      scheduledMonthly: 0,
      basis: expect.stringMatching(/^disabled \(daily when enabled\)/),
    });
  });

  it('counts an hourly Model Monitor job at its instance and stopping condition', () => {
    const result = estimateOf((stack) => {
      new CfnResource(stack, 'Monitor', {
        type: 'AWS::SageMaker::MonitoringSchedule',
        properties: {
          MonitoringScheduleName: 'm',
          MonitoringScheduleConfig: {
            ScheduleConfig: { ScheduleExpression: 'cron(0 * ? * * *)' },
            MonitoringJobDefinition: {
              MonitoringAppSpecification: {
                ImageUri: '156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer',
              },
              MonitoringInputs: [
                { EndpointInput: { EndpointName: 'ep', LocalPath: '/opt/ml/processing/input' } },
              ],
              MonitoringOutputConfig: {
                MonitoringOutputs: [
                  { S3Output: { LocalPath: '/opt/ml/processing/output', S3Uri: 's3://bucket/monitoring' } },
                ],
              },
              MonitoringResources: {
                ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.xlarge', VolumeSizeInGB: 20 },
              },
              RoleArn: 'arn:aws:iam::123456789012:role/r',
              StoppingCondition: { MaxRuntimeInSeconds: 1800 },
            },
          },
        },
      });
    });
    expect(resource(result, 'Monitor').scheduledMonthly).toBeCloseTo(
      HOURS_PER_MONTH * 0.5 * SAGEMAKER_INSTANCES['ml.m5.xlarge'].training,
      4,
    );
  });
});

describe('unknown types', () => {
  it('lists a resource whose type has no model, priced at nothing but never dropped', () => {
    // GIVEN a type no model covers
    const result = estimateOf((stack) => {
      new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: {} });
    });
    // THEN the estimate lists it as unknown, naming the type
    expect(result.unknown).toEqual([
      expect.objectContaining({
        type: 'AWS::SQS::Queue',
        path: 'Queue',
        status: 'unknown',
        reason: expect.stringMatching(/no cost model for AWS::SQS::Queue/),
      }),
    ]);
  });
});

describe('the sandbox goal', () => {
  it('names, largest first, the resources that put the total above the goal', () => {
    // GIVEN 3 interface endpoints (1, 2 and 3 AZs: $7.30, $14.60, $21.90)
    const result = estimateOf((stack) => {
      [1, 2, 3].forEach(
        (azs) =>
          new ec2.CfnVPCEndpoint(stack, `E${azs}`, {
            vpcId: VPC_ID,
            serviceName: `s${azs}`,
            vpcEndpointType: 'Interface',
            subnetIds: subnetIds(azs),
          }),
      );
    });
    // WHEN checked against $15
    const goal = checkGoal(result, 15);
    // THEN it is above, and removing the two largest brings it under
    expect(goal.met).toBe(false);
    expect(goal.above.map((r) => r.path)).toEqual(['E3', 'E2']);
    expect(checkGoal(result, 50)).toMatchObject({ met: true, above: [] });
  });
});

describe('cadence', () => {
  it.each([
    ['rate(1 day)', DAYS_PER_MONTH, 'daily'],
    ['rate(6 hours)', HOURS_PER_MONTH / 6, 'every 6 hours'],
    ['rate(1 hour)', HOURS_PER_MONTH, 'hourly'],
    ['cron(0 1 * * ? *)', DAYS_PER_MONTH, 'daily'],
    ['cron(0 * ? * * *)', HOURS_PER_MONTH, 'hourly'],
    ['cron(0/15 * * * ? *)', HOURS_PER_MONTH * 4, '96 times a day'],
    ['cron(0 9 ? * MON-FRI *)', (5 * DAYS_PER_MONTH) / 7, '21.73 times a month'],
  ])('counts %s', (expression, runsPerMonth, description) => {
    expect(cadence(expression)).toEqual({ runsPerMonth: expect.closeTo(runsPerMonth, 6), description });
  });

  it.each(['cron(0 1 L * ? *)', 'at(2026-12-01T00:00:00)', 'cron(0 1 * *)'])('refuses %s', (expression) => {
    expect(() => cadence(expression)).toThrow(expression);
  });
});
