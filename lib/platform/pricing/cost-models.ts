/**
 * One cost model per CloudFormation resource type: what the resource costs while nothing uses it
 * (per month, from its properties and the rest of the app's templates), what each unit of use
 * costs, and what its schedules start on their own. A type without a model here is reported as
 * unknown by the estimate and fails the app's cost test, so that a new resource type gets a price
 * decision before it ships.
 */
import { cadence } from './cadence';
import { definitionJobs, type SageMakerJob } from './jobs';
import { sageMakerInstance } from './sagemaker-instances';
import {
  type AppTemplates,
  type TemplateResource,
  arrayProperty,
  numberProperty,
  objectProperty,
} from './templates';
import { HOURS_PER_MONTH, PRICES, type PriceName } from './us-east-1';

/** A price per unit of use. */
export interface Rate {
  readonly usd: number;
  /** e.g. `million requests`, `training hour (ml.g5.2xlarge)`. */
  readonly per: string;
}

/** What a schedule starts by itself, whether anyone uses the system or not. */
export interface Recurring {
  /** `daily`, `hourly`, `every 6 hours`... */
  readonly cadence: string;
  readonly runsPerMonth: number;
  /** What one run may cost at most, in USD (jobs at their stopping condition, on demand). */
  readonly perRun: number;
  /** runsPerMonth x perRun. */
  readonly monthly: number;
  /** What runs, in words. */
  readonly what: string;
}

export interface Pricing {
  /** USD a month for capacity that bills while idle (hourly or monthly charges). */
  readonly idleMonthly: number;
  /** How `idleMonthly` is computed, or why the resource costs nothing idle. */
  readonly basis: string;
  readonly rates?: readonly Rate[];
  readonly recurring?: Recurring;
  readonly notes?: readonly string[];
}

/** The model cannot price this resource as configured: it is reported as unknown, with the reason. */
export class Unpriced extends Error {
  override name = 'Unpriced';
}

export type CostModel = (resource: TemplateResource, app: AppTemplates) => Pricing;

/** A unit price as the bases write it: at least cents, up to four decimals, three significant digits below a cent. */
export function usd(n: number): string {
  const [whole, decimals = ''] = String(Number(n < 0.01 ? n.toPrecision(3) : n.toFixed(4))).split('.');
  return `$${whole}.${decimals.padEnd(2, '0')}`;
}
const rate = (name: PriceName, per: string = PRICES[name].unit): Rate => ({ usd: PRICES[name].usd, per });

/** Costs nothing, idle or used: `why` says so. */
const free =
  (why: string): CostModel =>
  () => ({ idleMonthly: 0, basis: why });

/** Costs nothing idle; bills per use at `rates`. */
const perUse =
  (basis: string, ...names: PriceName[]): CostModel =>
  () => ({ idleMonthly: 0, basis, rates: names.map((name) => rate(name)) });

/** A Lambda-backed custom resource: its function runs when the stack deploys or is deleted. */
const deployTimeCustomResource = free('a custom resource: its function runs only at deploy and delete');

function instancePrice(instanceType: string, use: 'hosting' | 'training'): number {
  const price = sageMakerInstance(instanceType)?.[use];
  if (price === undefined) {
    throw new Unpriced(`no ${use} price for ${instanceType} in lib/platform/pricing/sagemaker-instances.ts`);
  }
  return price;
}

// --- Networking -------------------------------------------------------------------------------

const vpcEndpoint: CostModel = (r) => {
  const type = r.properties.VpcEndpointType ?? 'Gateway';
  if (type === 'Gateway') return { idleMonthly: 0, basis: 'gateway endpoint: free' };
  if (type !== 'Interface') throw new Unpriced(`a ${String(type)} endpoint has no model`);
  const azs = arrayProperty(r.properties.SubnetIds).length;
  if (azs === 0) throw new Unpriced('an interface endpoint whose subnets are not listed in the template');
  const price = PRICES.interfaceEndpointAzHour.usd;
  return {
    idleMonthly: azs * HOURS_PER_MONTH * price,
    basis: `interface endpoint in ${azs} AZ${azs > 1 ? 's' : ''} x ${HOURS_PER_MONTH} h x ${usd(price)}/AZ-hour`,
    rates: [rate('interfaceEndpointGb')],
  };
};

// --- Data -------------------------------------------------------------------------------------

const serverlessCache: CostModel = (r) => {
  const engine = String(r.properties.Engine ?? '').toLowerCase();
  const valkey = engine === 'valkey';
  if (!valkey && engine !== 'redis' && engine !== 'memcached') throw new Unpriced(`engine ${engine}`);
  const gbHour = valkey ? PRICES.valkeyServerlessGbHour : PRICES.redisServerlessGbHour;
  const minGb = (valkey ? PRICES.valkeyServerlessMinGb : PRICES.redisServerlessMinGb).usd;
  const snapshots = numberProperty(r.properties.SnapshotRetentionLimit) ?? 0;
  return {
    idleMonthly: minGb * gbHour.usd * HOURS_PER_MONTH,
    basis: `${engine} serverless: the ${minGb >= 1 ? `${minGb} GB` : `${minGb * 1000} MB`} metered minimum x ${usd(gbHour.usd)}/GB-hour x ${HOURS_PER_MONTH} h`,
    rates: [
      { usd: gbHour.usd, per: 'GB-hour stored above the minimum' },
      rate(valkey ? 'valkeyServerlessMillionEcpu' : 'redisServerlessMillionEcpu'),
    ],
    notes:
      snapshots > 0 ? [`keeps ${snapshots} daily snapshots, billed per GB-month of snapshot storage`] : [],
  };
};

const dbCluster: CostModel = (r) => {
  if (r.properties.StorageType === 'aurora-iopt1')
    throw new Unpriced('Aurora I/O-Optimized has no price in the table');
  if (!String(r.properties.Engine ?? '').startsWith('aurora'))
    throw new Unpriced(`engine ${String(r.properties.Engine)}`);
  const notes: string[] = [];
  const retention = numberProperty(r.properties.BackupRetentionPeriod);
  if (retention !== undefined) notes.push(`${retention} days of backups: free up to the cluster's size`);
  const rates = [rate('auroraStorageGbMonth'), rate('auroraMillionIo')];
  if (r.properties.EnableHttpEndpoint === true) rates.push(rate('rdsDataApiMillionRequests'));
  return {
    idleMonthly: 0,
    basis: 'storage only: compute bills on its instances',
    rates,
    notes,
  };
};

const dbInstance: CostModel = (r, app) => {
  const cluster = app.target(r, r.properties.DBClusterIdentifier);
  if (r.properties.DBInstanceClass !== 'db.serverless' || !cluster) {
    throw new Unpriced(`a ${String(r.properties.DBInstanceClass)} instance has no price in the table`);
  }
  const scaling = objectProperty(cluster.properties.ServerlessV2ScalingConfiguration);
  const min = numberProperty(scaling.MinCapacity);
  const max = numberProperty(scaling.MaxCapacity);
  if (min === undefined) throw new Unpriced('a serverless instance whose cluster has no minimum capacity');
  const price = PRICES.auroraServerlessV2AcuHour.usd;
  const rates = [{ usd: price, per: `ACU-hour (scales ${min}-${max ?? '?'} ACU)` }];
  if (min === 0) {
    return {
      idleMonthly: 0,
      basis: `Aurora Serverless v2 at 0 ACU: pauses when idle${scaling.SecondsUntilAutoPause ? ` after ${numberProperty(scaling.SecondsUntilAutoPause)} s` : ''}`,
      rates,
      notes: ['the first connection after a pause waits for it to resume (about 15 s)'],
    };
  }
  return {
    idleMonthly: min * price * HOURS_PER_MONTH,
    basis: `Aurora Serverless v2 minimum ${min} ACU x ${usd(price)}/ACU-hour x ${HOURS_PER_MONTH} h`,
    rates,
  };
};

const featureGroup: CostModel = (r) => {
  const online = objectProperty(r.properties.OnlineStoreConfig).EnableOnlineStore === true;
  const throughput = objectProperty(r.properties.ThroughputConfig);
  if (throughput.ThroughputMode === 'Provisioned')
    throw new Unpriced('provisioned throughput has no price in the table');
  const offline = r.properties.OfflineStoreConfig !== undefined;
  const rates: Rate[] = [];
  if (online) {
    rates.push(
      rate('featureStoreMillionWriteUnits'),
      rate('featureStoreMillionReadUnits'),
      rate('featureStoreOnlineGbMonth'),
    );
  }
  if (offline) rates.push({ usd: PRICES.s3StandardGbMonth.usd, per: 'GB-month in the offline store (S3)' });
  return {
    idleMonthly: 0,
    basis: `${[online && 'online', offline && 'offline'].filter(Boolean).join(' and ')} store: per unit read and written and per GB stored`,
    rates,
  };
};

// --- ML ---------------------------------------------------------------------------------------

/**
 * The variants of an endpoint config. Instance variants bill for every instance while the config
 * serves an endpoint, at the autoscaling minimum when there is one; serverless ones per use.
 */
const endpointConfig: CostModel = (r, app) => {
  const variants = arrayProperty(r.properties.ProductionVariants).map(objectProperty);
  const endpoints = app.referrers(r, 'AWS::SageMaker::Endpoint', 'EndpointConfigName');
  const serving = endpoints.length > 0;
  const notes: string[] = [];
  const rates: Rate[] = [];
  const parts: string[] = [];
  let idleMonthly = 0;
  for (const variant of variants) {
    const name = String(variant.VariantName ?? '?');
    const serverless = objectProperty(variant.ServerlessConfig);
    if (variant.ServerlessConfig !== undefined) {
      const memoryGb = (numberProperty(serverless.MemorySizeInMB) ?? 0) / 1024;
      const provisioned = numberProperty(serverless.ProvisionedConcurrency) ?? 0;
      if (provisioned > 0) throw new Unpriced(`${name}: provisioned concurrency has no price in the table`);
      rates.push(
        {
          usd: PRICES.serverlessInferenceGbSecond.usd * memoryGb * 3600,
          per: `hour of inference (${name}, ${memoryGb} GB serverless)`,
        },
        rate('inferenceDataGb'),
      );
      parts.push(`${name}: serverless, $0 idle`);
      continue;
    }
    const type = variant.InstanceType;
    if (typeof type !== 'string')
      throw new Unpriced(`${name}: neither an instance type nor a serverless config`);
    const initial = numberProperty(variant.InitialInstanceCount) ?? 1;
    const scaling = app.resources.find(
      (t) =>
        t.stack === r.stack &&
        t.type === 'AWS::ApplicationAutoScaling::ScalableTarget' &&
        flattenResourceId(t.properties.ResourceId).endsWith(`/variant/${name}`) &&
        endpoints.some((endpoint) => scalesEndpoint(t, endpoint)),
    );
    const min = scaling ? (numberProperty(scaling.properties.MinCapacity) ?? initial) : initial;
    const max = scaling ? numberProperty(scaling.properties.MaxCapacity) : undefined;
    const hourly = instancePrice(type, 'hosting');
    rates.push({
      usd: hourly,
      per: `instance-hour (${name}, ${type}${max && max > min ? `, scales ${min}-${max}` : ''})`,
    });
    if (serving) {
      idleMonthly += min * hourly * HOURS_PER_MONTH;
      parts.push(`${name}: ${min} x ${type} x ${usd(hourly)}/h x ${HOURS_PER_MONTH} h`);
    }
  }
  if (!serving && idleMonthly === 0 && parts.length < variants.length) {
    notes.push('no endpoint in the templates serves this config: its instances bill only once one does');
  }
  if (serving) {
    notes.push(
      'training runs create their own endpoint configs of the same shape and swap the endpoint to them: the endpoint serves one config at a time (two for the minutes of a blue/green swap)',
    );
  }
  return {
    idleMonthly,
    basis: parts.length > 0 ? parts.join('; ') : 'no variants',
    rates,
    notes,
  };
};

/** Whether a scalable target's `endpoint/<name>/variant/<variant>` names this endpoint. */
function scalesEndpoint(target: TemplateResource, endpoint: TemplateResource): boolean {
  const name = endpoint.properties.EndpointName;
  if (name === undefined) return false;
  if (typeof name === 'string')
    return flattenResourceId(target.properties.ResourceId).startsWith(`endpoint/${name}/`);
  return JSON.stringify(target.properties.ResourceId).includes(JSON.stringify(name));
}

/** `ResourceId` of a scalable target: `endpoint/<name>/variant/<variant>`, joined from references. */
function flattenResourceId(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = objectProperty(value)['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    return join[1].map((part: unknown) => (typeof part === 'string' ? part : '<ref>')).join(String(join[0]));
  }
  return '';
}

function jobsCost(jobs: readonly SageMakerJob[]): { perRun: number; what: string; rates: Rate[] } {
  let perRun = 0;
  const what: string[] = [];
  const rates: Rate[] = [];
  for (const job of jobs) {
    const hourly = instancePrice(job.instanceType, 'training');
    perRun += job.instances * job.maxHours * hourly;
    what.push(
      `${job.kind} ${job.instances} x ${job.instanceType} up to ${Number(job.maxHours.toFixed(2))} h${job.spot ? ' (spot: up to 90% less)' : ''}`,
    );
    if (!rates.some((r) => r.per.includes(job.instanceType))) {
      rates.push({
        usd: hourly,
        per: `${job.kind === 'processing' ? 'processing' : 'training'} hour (${job.instanceType})`,
      });
    }
  }
  return { perRun, what: what.join(', '), rates };
}

const stateMachine: CostModel = (r) => {
  const express = r.properties.StateMachineType === 'EXPRESS';
  const { jobs, problems } = definitionJobs(r.properties.DefinitionString ?? r.properties.Definition);
  const { rates } = jobsCost(jobs);
  return {
    idleMonthly: 0,
    basis: `per run: ${express ? 'requests and duration' : 'state transitions'}, plus what its tasks start`,
    rates: [
      rate(express ? 'stepFunctionsExpressMillionRequests' : 'stepFunctionsThousandTransitions'),
      ...rates,
    ],
    notes: problems,
  };
};

/** A schedule bills (next to) nothing itself; what it starts while nobody uses the system does. */
const schedule: CostModel = (r, app) => {
  const expression = String(r.properties.ScheduleExpression ?? '');
  const enabled = r.properties.State !== 'DISABLED';
  const target = app.target(r, objectProperty(r.properties.Target).Arn);
  const when = cadence(expression);
  const rates = [rate('schedulerMillionInvocations')];
  if (!enabled) {
    return { idleMonthly: 0, basis: `disabled (${when.description} when enabled): starts nothing`, rates };
  }
  if (!target) throw new Unpriced('an enabled schedule whose target is not a resource of its stack');
  const notes: string[] = [];
  let perRun = 0;
  let what = `${target.path}`;
  if (target.type === 'AWS::StepFunctions::StateMachine') {
    const { jobs, problems } = definitionJobs(
      target.properties.DefinitionString ?? target.properties.Definition,
    );
    if (problems.length > 0) throw new Unpriced(`its state machine: ${problems.join('; ')}`);
    const cost = jobsCost(jobs);
    perRun = cost.perRun;
    what = jobs.length > 0 ? cost.what : 'a state machine run (per use: transitions, Lambda, queries)';
    notes.push('each run also bills per use: state transitions, Lambda, Athena bytes scanned');
  } else {
    throw new Unpriced(`an enabled schedule starting a ${target.type} has no model`);
  }
  return {
    idleMonthly: 0,
    basis: `starts ${target.path.replace(/\/Resource$/, '')} ${when.description}`,
    rates,
    recurring: {
      cadence: when.description,
      runsPerMonth: when.runsPerMonth,
      perRun,
      monthly: perRun * when.runsPerMonth,
      what,
    },
    notes,
  };
};

const monitoringSchedule: CostModel = (r) => {
  const config = objectProperty(r.properties.MonitoringScheduleConfig);
  const expression = String(objectProperty(config.ScheduleConfig).ScheduleExpression ?? '');
  const definition = objectProperty(config.MonitoringJobDefinition);
  if (!config.MonitoringJobDefinition)
    throw new Unpriced('a monitoring schedule naming a separate job definition has no model');
  const cluster = objectProperty(objectProperty(definition.MonitoringResources).ClusterConfig);
  const instanceType = cluster.InstanceType;
  const count = numberProperty(cluster.InstanceCount) ?? 1;
  if (typeof instanceType !== 'string') throw new Unpriced('no instance type in the monitoring job');
  const maxHours =
    (numberProperty(objectProperty(definition.StoppingCondition).MaxRuntimeInSeconds) ?? 3600) / 3600;
  const when = cadence(expression);
  const hourly = instancePrice(instanceType, 'training');
  const perRun = count * maxHours * hourly;
  return {
    idleMonthly: 0,
    basis: `a Model Monitor job ${when.description}`,
    rates: [{ usd: hourly, per: `processing hour (${instanceType})` }],
    recurring: {
      cadence: when.description,
      runsPerMonth: when.runsPerMonth,
      perRun,
      monthly: perRun * when.runsPerMonth,
      what: `Model Monitor ${count} x ${instanceType} up to ${Number(maxHours.toFixed(2))} h`,
    },
    notes: [
      'an upper bound: a job bills for the minutes it runs, usually far less than its stopping condition',
    ],
  };
};

// --- Compute and integration ------------------------------------------------------------------

const lambdaFunction: CostModel = (r) => {
  const memoryGb = (numberProperty(r.properties.MemorySize) ?? 128) / 1024;
  const arm = arrayProperty(r.properties.Architectures).includes('arm64');
  const gbSecond = (arm ? PRICES.lambdaArmGbSecond : PRICES.lambdaX86GbSecond).usd;
  const rates: Rate[] = [
    rate('lambdaMillionRequests'),
    {
      usd: gbSecond * memoryGb * 3600,
      per: `hour of run time (${memoryGb * 1024} MB, ${arm ? 'Arm' : 'x86'})`,
    },
  ];
  if (objectProperty(r.properties.TracingConfig).Mode === 'Active') rates.push(rate('xrayMillionTraces'));
  const reserved = numberProperty(r.properties.ReservedConcurrentExecutions);
  return {
    idleMonthly: 0,
    basis: 'per request and per GB-second of run time',
    rates,
    notes: reserved !== undefined ? [`${reserved} reserved concurrency: a limit, not billed`] : [],
  };
};

const restApi = perUse('per request', 'restApiMillionRequests');

const apiStage: CostModel = (r) => {
  if (r.properties.CacheClusterEnabled === true)
    throw new Unpriced('a stage cache bills hourly and has no price in the table');
  return {
    idleMonthly: 0,
    basis: 'requests bill on the REST API',
    rates: r.properties.TracingEnabled === true ? [rate('xrayMillionTraces')] : [],
  };
};

const deliveryStream: CostModel = (r) => {
  const s3 = objectProperty(r.properties.ExtendedS3DestinationConfiguration);
  if (objectProperty(s3.DataFormatConversionConfiguration).Enabled === true) {
    throw new Unpriced('format conversion has no price in the table');
  }
  if (objectProperty(s3.DynamicPartitioningConfiguration).Enabled === true) {
    throw new Unpriced('dynamic partitioning has no price in the table');
  }
  if (
    r.properties.DeliveryStreamType === 'KinesisStreamAsSource' ||
    r.properties.DeliveryStreamType === 'MSKAsSource'
  ) {
    throw new Unpriced(`a ${String(r.properties.DeliveryStreamType)} stream has no model`);
  }
  return { idleMonthly: 0, basis: 'per GB ingested', rates: [rate('firehoseGb')] };
};

// --- Security and monitoring ------------------------------------------------------------------

const kmsKey: CostModel = (r) => ({
  idleMonthly: PRICES.kmsKeyMonth.usd,
  basis: `customer managed key x ${usd(PRICES.kmsKeyMonth.usd)}/month`,
  rates: [rate('kmsTenThousandRequests')],
  notes:
    r.properties.EnableKeyRotation === true
      ? ['yearly rotation: $1 more a month after each of the first two rotations']
      : [],
});

const secret: CostModel = () => ({
  idleMonthly: PRICES.secretMonth.usd,
  basis: `secret x ${usd(PRICES.secretMonth.usd)}/month`,
  rates: [rate('secretsTenThousandCalls')],
});

/** Metrics an alarm reads: one for a plain alarm, each MetricStat of a metric math alarm, 3 for an anomaly band. */
export function alarmMetrics(r: TemplateResource): { metrics: number; highResolution: boolean } {
  const queries = arrayProperty(r.properties.Metrics).map(objectProperty);
  const periods = [
    numberProperty(r.properties.Period),
    ...queries.map((q) => numberProperty(objectProperty(q.MetricStat).Period) ?? numberProperty(q.Period)),
  ].filter((p): p is number => p !== undefined);
  const highResolution = periods.some((p) => p < 60);
  if (queries.length === 0) return { metrics: 1, highResolution };
  const anomalyBand = queries.some((q) => /ANOMALY_DETECTION_BAND/.test(String(q.Expression ?? '')));
  const metrics = queries.filter((q) => q.MetricStat !== undefined).length;
  return { metrics: anomalyBand ? metrics + 2 : Math.max(metrics, 1), highResolution };
}

const alarm: CostModel = (r) => {
  const { metrics, highResolution } = alarmMetrics(r);
  const price = (highResolution ? PRICES.highResolutionAlarmMetricMonth : PRICES.alarmMetricMonth).usd;
  return {
    idleMonthly: metrics * price,
    basis: `${metrics} ${highResolution ? 'high-resolution ' : ''}alarm metric${metrics > 1 ? 's' : ''} x ${usd(price)}/month`,
    notes: highResolution
      ? []
      : ["the account's first 10 standard alarm metrics are free (shared by every deployment)"],
  };
};

const compositeAlarm: CostModel = () => ({
  idleMonthly: PRICES.compositeAlarmMonth.usd,
  basis: `composite alarm x ${usd(PRICES.compositeAlarmMonth.usd)}/month`,
});

const dashboard: CostModel = () => ({
  idleMonthly: PRICES.dashboardMonth.usd,
  basis: `dashboard x ${usd(PRICES.dashboardMonth.usd)}/month`,
  notes: ["the account's first 3 dashboards are free (shared by every deployment)"],
});

const metricFilter: CostModel = (r) => {
  const metrics = arrayProperty(r.properties.MetricTransformations).length;
  return {
    idleMonthly: 0,
    basis: `publishes ${metrics} custom metric${metrics === 1 ? '' : 's'} only when matching log events arrive`,
    rates: [rate('customMetricMonth', 'custom metric-month while published (per dimension value)')],
  };
};

/** Every resource type the blueprint's templates hold, with its model. */
export const COST_MODELS: Readonly<Record<string, CostModel>> = {
  // Networking: the VPC and its parts are free; interface endpoints bill per AZ-hour.
  'AWS::EC2::VPC': free('free'),
  'AWS::EC2::Subnet': free('free'),
  'AWS::EC2::RouteTable': free('free'),
  'AWS::EC2::SubnetRouteTableAssociation': free('free'),
  'AWS::EC2::SecurityGroup': free('free'),
  'AWS::EC2::SecurityGroupIngress': free('free'),
  'AWS::EC2::SecurityGroupEgress': free('free'),
  'AWS::EC2::VPCEndpoint': vpcEndpoint,
  'AWS::EC2::FlowLog': perUse('per GB of flow logs delivered', 'vendedLogsGb'),

  // Data
  'AWS::S3::Bucket': perUse(
    'per GB stored and per request',
    's3StandardGbMonth',
    's3ThousandPuts',
    's3ThousandGets',
  ),
  'AWS::S3::BucketPolicy': free('free'),
  'AWS::KinesisFirehose::DeliveryStream': deliveryStream,
  'AWS::ElastiCache::ServerlessCache': serverlessCache,
  'AWS::RDS::DBCluster': dbCluster,
  'AWS::RDS::DBInstance': dbInstance,
  'AWS::RDS::DBSubnetGroup': free('free'),
  'AWS::Glue::Database': perUse(
    'Data Catalog objects: the first million are free',
    'glueCatalogHundredThousandObjects',
  ),
  'AWS::Athena::WorkGroup': perUse('per query, by the bytes it scans', 'athenaTbScanned'),
  'AWS::SageMaker::FeatureGroup': featureGroup,

  // ML
  'AWS::SageMaker::Model': free('free: bills through the endpoint config that hosts it'),
  'AWS::SageMaker::ModelPackageGroup': free('free (the registry)'),
  'AWS::SageMaker::EndpointConfig': endpointConfig,
  'AWS::SageMaker::Endpoint': free('bills through the endpoint config it serves'),
  'AWS::SageMaker::MonitoringSchedule': monitoringSchedule,
  'AWS::ApplicationAutoScaling::ScalableTarget': free(
    'free: sets the instance count its endpoint config bills',
  ),
  'AWS::ApplicationAutoScaling::ScalingPolicy': free('free'),
  'AWS::StepFunctions::StateMachine': stateMachine,
  'AWS::Scheduler::Schedule': schedule,

  // Compute and the API
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Permission': free('free'),
  'AWS::ApiGateway::RestApi': restApi,
  'AWS::ApiGateway::Stage': apiStage,
  'AWS::ApiGateway::Deployment': free('free'),
  'AWS::ApiGateway::Resource': free('free'),
  'AWS::ApiGateway::Method': free('free'),
  'AWS::ApiGateway::Model': free('free'),
  'AWS::ApiGateway::RequestValidator': free('free'),
  'AWS::ApiGateway::GatewayResponse': free('free'),
  'AWS::ApiGateway::Account': free('free: the account-wide CloudWatch role setting'),
  'AWS::SNS::Topic': perUse('per message published and delivered', 'snsMillionPublishes'),
  'AWS::SNS::TopicPolicy': free('free'),
  'AWS::AppConfig::Application': free('free'),
  'AWS::AppConfig::Environment': free('free'),
  'AWS::AppConfig::ConfigurationProfile': perUse(
    'per configuration request and per configuration received',
    'appConfigMillionRequests',
    'appConfigThousandReceived',
  ),
  'AWS::AppConfig::HostedConfigurationVersion': free('free (the hosted store)'),
  'AWS::AppConfig::Deployment': free('free'),

  // Security
  'AWS::KMS::Key': kmsKey,
  'AWS::SecretsManager::Secret': secret,
  'AWS::SecretsManager::SecretTargetAttachment': free('free'),
  'AWS::SecretsManager::ResourcePolicy': free('free'),
  'AWS::SecretsManager::RotationSchedule': free('free: runs its rotation function (per use) on its schedule'),
  'AWS::Serverless::Application': free(
    'free: the rotation function of the Serverless Application Repository, billed per use',
  ),
  'AWS::IAM::Role': free('free'),
  'AWS::IAM::Policy': free('free'),

  // Monitoring
  'AWS::CloudWatch::Alarm': alarm,
  'AWS::CloudWatch::CompositeAlarm': compositeAlarm,
  'AWS::CloudWatch::Dashboard': dashboard,
  'AWS::Logs::LogGroup': perUse('per GB ingested and stored', 'logsIngestedGb', 'logsStoredGbMonth'),
  'AWS::Logs::LogStream': free('free'),
  'AWS::Logs::MetricFilter': metricFilter,
  'AWS::Logs::SubscriptionFilter': free('free: the function it feeds bills per use'),

  // CDK's own
  'AWS::CDK::Metadata': free('not a resource: CDK version metadata'),
  'Custom::AWS': deployTimeCustomResource,
  'Custom::VpcRestrictDefaultSG': deployTimeCustomResource,
  'Custom::S3AutoDeleteObjects': deployTimeCustomResource,
  'Custom::SageMakerRunCleanup': deployTimeCustomResource,
  'Custom::InvokeAtDeploy': deployTimeCustomResource,
  'Custom::DatabaseUser': deployTimeCustomResource,
};
