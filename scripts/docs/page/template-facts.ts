import type { Architecture } from '../graph/architecture-graph';
import { findReferences, type TemplatesByStack } from '../graph/intrinsics';
import { parseJoinedJson } from '../graph/joined-json';
import type { SynthesizedStack } from '../synthesized-app';

/**
 * The numbers of one synthesized app that its design page states, each read from the templates
 * (what CloudFormation will deploy), and each tied to the diagram's node of its construct.
 */
export interface TemplateFacts {
  readonly stacks: number;
  readonly resources: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly apis: readonly { node: string; rateLimit?: number; burstLimit?: number }[];
  readonly routes: readonly { method: string; path: string; target?: string }[];
  readonly functions: readonly FunctionFacts[];
  readonly endpoints: readonly EndpointFacts[];
  readonly caches: readonly CacheFacts[];
  readonly databases: readonly DatabaseFacts[];
  readonly lakes: readonly { node: string; bytesScannedCutoffPerQuery?: number }[];
  readonly streams: readonly StreamFacts[];
  readonly featureGroups: readonly FeatureGroupFacts[];
  readonly schedules: readonly { node: string; expression: string; enabled: boolean }[];
  readonly trainingJobs: readonly TrainingFacts[];
  readonly monitoringSchedules: readonly { node: string; expression?: string }[];
}

export interface FunctionFacts {
  readonly node: string;
  readonly description?: string;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  readonly reservedConcurrency?: number;
  readonly inVpc: boolean;
}

export interface EndpointFacts {
  readonly node: string;
  readonly variants: readonly {
    readonly name: string;
    readonly weight?: number;
    readonly instanceType?: string;
    readonly initialInstances?: number;
    readonly serverless?: { readonly memoryMb?: number; readonly maxConcurrency?: number };
  }[];
  readonly dataCapture: boolean;
  /** `canary`, `linear`, `all at once`, or undefined when updates are not blue/green. */
  readonly rollout?: string;
  readonly autoRollbackAlarms: number;
  readonly scaling: readonly {
    readonly variant: string;
    readonly min?: number;
    readonly max?: number;
    readonly targetInvocationsPerInstancePerMinute?: number;
  }[];
}

export interface CacheFacts {
  readonly node: string;
  readonly engine: string;
  readonly maxDataStorageGb?: number;
  readonly maxEcpuPerSecond?: number;
  readonly snapshotRetentionDays?: number;
}

export interface DatabaseFacts {
  readonly node: string;
  readonly engine: string;
  readonly minAcu?: number;
  readonly maxAcu?: number;
  readonly instances: number;
  readonly deletionProtection: boolean;
  readonly backupRetentionDays?: number;
}

export interface StreamFacts {
  readonly node: string;
  readonly bufferSeconds?: number;
  readonly bufferMb?: number;
  readonly destination?: string;
  /** Days the destination bucket keeps what the stream writes (its lifecycle rule for that prefix). */
  readonly expirationDays?: number;
}

export interface FeatureGroupFacts {
  readonly node: string;
  readonly description?: string;
  readonly features: number;
  readonly online: boolean;
  readonly offline: boolean;
}

export interface TrainingFacts {
  readonly node: string;
  readonly instanceType: string;
  readonly instanceCount?: number;
  readonly volumeGb?: number;
  readonly maxRuntimeSeconds?: number;
  readonly spot: boolean;
  /** Set when the job is a hyperparameter tuning job's. */
  readonly tuning?: { readonly maxJobs?: number; readonly maxParallelJobs?: number };
}

type Props = Readonly<Record<string, unknown>>;

interface Found {
  readonly stack: string;
  readonly logicalId: string;
  readonly node: string;
  readonly props: Props;
}

/** Reads the facts of an app whose graph is `architecture`. */
export function templateFacts(
  stacks: readonly SynthesizedStack[],
  architecture: Architecture,
): TemplateFacts {
  const templates: TemplatesByStack = new Map(stacks.map((s) => [s.stack.stackName, s.template]));
  const all = (type: string): Found[] =>
    stacks
      .flatMap(({ stack, template }) =>
        Object.entries(template.Resources ?? {})
          .filter(([, resource]) => resource.Type === type)
          .map(([logicalId, resource]) => ({
            stack: stack.stackName,
            logicalId,
            node: architecture.nodeOf(stack.stackName, logicalId) ?? '',
            props: resource.Properties ?? {},
          })),
      )
      .filter((found) => found.node !== '')
      .sort((a, b) => compare(a.node, b.node) || compare(a.logicalId, b.logicalId));
  const nodeOfRef = (found: Found, value: unknown): string | undefined =>
    findReferences(value, found.stack, templates)
      .map((ref) => architecture.nodeOf(ref.target.stack, ref.target.logicalId))
      .find(Boolean);
  const resourceOf = (found: Found, value: unknown) => {
    const ref = findReferences(value, found.stack, templates)[0];
    return ref && templates.get(ref.target.stack)?.Resources?.[ref.target.logicalId];
  };

  const count = (type: string) =>
    stacks.reduce(
      (sum, { template }) =>
        sum + Object.values(template.Resources ?? {}).filter((r) => r.Type === type).length,
      0,
    );
  return {
    stacks: stacks.length,
    resources: stacks.reduce((sum, { template }) => sum + Object.keys(template.Resources ?? {}).length, 0),
    alarms: count('AWS::CloudWatch::Alarm'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    apis: all('AWS::ApiGateway::Stage').map((stage) => {
      const settings = ((stage.props.MethodSettings ?? []) as Props[]).find((s) => s.ResourcePath === '/*');
      return {
        node: stage.node,
        rateLimit: num(settings?.ThrottlingRateLimit),
        burstLimit: num(settings?.ThrottlingBurstLimit),
      };
    }),
    routes: routes(all('AWS::ApiGateway::Method'), templates, nodeOfRef),
    functions: all('AWS::Lambda::Function')
      .filter((fn) => architecture.graph.nodes.some((node) => node.id === fn.node))
      .map((fn) => ({
        node: fn.node,
        description: str(fn.props.Description),
        memoryMb: num(fn.props.MemorySize),
        timeoutSeconds: num(fn.props.Timeout),
        reservedConcurrency: num(fn.props.ReservedConcurrentExecutions),
        inVpc: fn.props.VpcConfig !== undefined,
      }))
      .filter((fn, i, list) => list.findIndex((other) => other.node === fn.node) === i),
    endpoints: all('AWS::SageMaker::Endpoint').map((endpoint) => {
      const config = resourceOf(endpoint, endpoint.props.EndpointConfigName)?.Properties ?? {};
      const deployment = (endpoint.props.DeploymentConfig ?? {}) as Props;
      const blueGreen = deployment.BlueGreenUpdatePolicy as Props | undefined;
      const routing = (blueGreen?.TrafficRoutingConfiguration ?? {}) as Props;
      const rollback = ((deployment.AutoRollbackConfiguration as Props | undefined)?.Alarms ??
        []) as unknown[];
      return {
        node: endpoint.node,
        variants: ((config.ProductionVariants ?? []) as Props[]).map((variant) => {
          const serverless = variant.ServerlessConfig as Props | undefined;
          return {
            name: String(variant.VariantName),
            weight: num(variant.InitialVariantWeight),
            instanceType: str(variant.InstanceType),
            initialInstances: num(variant.InitialInstanceCount),
            serverless: serverless && {
              memoryMb: num(serverless.MemorySizeInMB),
              maxConcurrency: num(serverless.MaxConcurrency),
            },
          };
        }),
        dataCapture: (config.DataCaptureConfig as Props | undefined)?.EnableCapture === true,
        rollout: blueGreen
          ? String(routing.Type ?? '')
              .toLowerCase()
              .replace(/_/g, ' ')
          : undefined,
        autoRollbackAlarms: rollback.length,
        scaling: all('AWS::ApplicationAutoScaling::ScalableTarget')
          .filter((target) => target.node === endpoint.node)
          .map((target) => {
            const policy = all('AWS::ApplicationAutoScaling::ScalingPolicy').find(
              (p) =>
                findReferences(p.props.ScalingTargetId, p.stack, templates)[0]?.target.logicalId ===
                target.logicalId,
            );
            const tracking = policy?.props.TargetTrackingScalingPolicyConfiguration as Props | undefined;
            return {
              variant: variantOf(target.props.ResourceId),
              min: num(target.props.MinCapacity),
              max: num(target.props.MaxCapacity),
              targetInvocationsPerInstancePerMinute: num(tracking?.TargetValue),
            };
          }),
      };
    }),
    caches: all('AWS::ElastiCache::ServerlessCache').map((cache) => {
      const limits = (cache.props.CacheUsageLimits ?? {}) as Props;
      return {
        node: cache.node,
        engine: `${str(cache.props.Engine) ?? ''} ${str(cache.props.MajorEngineVersion) ?? ''}`.trim(),
        maxDataStorageGb: num((limits.DataStorage as Props | undefined)?.Maximum),
        maxEcpuPerSecond: num((limits.ECPUPerSecond as Props | undefined)?.Maximum),
        snapshotRetentionDays: num(cache.props.SnapshotRetentionLimit),
      };
    }),
    databases: all('AWS::RDS::DBCluster').map((cluster) => {
      const scaling = (cluster.props.ServerlessV2ScalingConfiguration ?? {}) as Props;
      return {
        node: cluster.node,
        engine: `${str(cluster.props.Engine) ?? ''} ${str(cluster.props.EngineVersion) ?? ''}`.trim(),
        minAcu: num(scaling.MinCapacity),
        maxAcu: num(scaling.MaxCapacity),
        instances: all('AWS::RDS::DBInstance').filter(
          (instance) =>
            findReferences(instance.props.DBClusterIdentifier, instance.stack, templates)[0]?.target
              .logicalId === cluster.logicalId,
        ).length,
        deletionProtection: cluster.props.DeletionProtection === true,
        backupRetentionDays: num(cluster.props.BackupRetentionPeriod),
      };
    }),
    lakes: all('AWS::Athena::WorkGroup').map((workGroup) => ({
      node: workGroup.node,
      bytesScannedCutoffPerQuery: num(
        (workGroup.props.WorkGroupConfiguration as Props | undefined)?.BytesScannedCutoffPerQuery,
      ),
    })),
    streams: all('AWS::KinesisFirehose::DeliveryStream').map((stream) => {
      const destination = (stream.props.ExtendedS3DestinationConfiguration ??
        stream.props.S3DestinationConfiguration ??
        {}) as Props;
      const hints = (destination.BufferingHints ?? {}) as Props;
      const bucket = resourceOf(stream, destination.BucketARN);
      return {
        node: stream.node,
        bufferSeconds: num(hints.IntervalInSeconds),
        bufferMb: num(hints.SizeInMBs),
        destination: nodeOfRef(stream, destination.BucketARN),
        expirationDays: bucket && expirationFor(bucket.Properties ?? {}, str(destination.Prefix) ?? ''),
      };
    }),
    featureGroups: all('AWS::SageMaker::FeatureGroup').map((group) => ({
      node: group.node,
      description: str(group.props.Description),
      features: ((group.props.FeatureDefinitions ?? []) as unknown[]).length,
      online: (group.props.OnlineStoreConfig as Props | undefined)?.EnableOnlineStore === true,
      offline: group.props.OfflineStoreConfig !== undefined,
    })),
    schedules: [
      ...all('AWS::Scheduler::Schedule').map((schedule) => ({
        node: nodeOfRef(schedule, (schedule.props.Target as Props | undefined)?.Arn) ?? schedule.node,
        expression: String(schedule.props.ScheduleExpression),
        enabled: schedule.props.State !== 'DISABLED',
      })),
      ...all('AWS::Events::Rule')
        .filter((rule) => rule.props.ScheduleExpression !== undefined)
        .map((rule) => ({
          node: nodeOfRef(rule, rule.props.Targets) ?? rule.node,
          expression: String(rule.props.ScheduleExpression),
          enabled: rule.props.State !== 'DISABLED',
        })),
    ].sort((a, b) => compare(a.node, b.node)),
    trainingJobs: all('AWS::StepFunctions::StateMachine').flatMap((machine) =>
      trainingJobs(parseJoinedJson(machine.props.DefinitionString)).map((job) => ({
        node: machine.node,
        ...job,
      })),
    ),
    monitoringSchedules: all('AWS::SageMaker::MonitoringSchedule').map((schedule) => ({
      node: schedule.node,
      expression: str(
        ((schedule.props.MonitoringScheduleConfig as Props | undefined)?.ScheduleConfig as Props | undefined)
          ?.ScheduleExpression,
      ),
    })),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The variant a scalable target's `endpoint/<name>/variant/<variant>` resource id names. */
function variantOf(resourceId: unknown): string {
  const text = JSON.stringify(resourceId);
  return /\/variant\/([A-Za-z0-9-]+)/.exec(text)?.[1] ?? '';
}

/** Days a bucket's lifecycle keeps objects under `prefix` (a rule for the prefix, else for every key). */
function expirationFor(bucket: Props, prefix: string): number | undefined {
  const rules = ((bucket.LifecycleConfiguration as Props | undefined)?.Rules ?? []) as Props[];
  const matching = rules.filter(
    (rule) => rule.ExpirationInDays !== undefined && prefix.startsWith(String(rule.Prefix ?? '')),
  );
  const specific = matching.sort((a, b) => String(b.Prefix ?? '').length - String(a.Prefix ?? '').length)[0];
  return num(specific?.ExpirationInDays);
}

/** `GET /v1/things/{id}` for every API method, with the node its integration reaches. */
function routes(
  methods: readonly Found[],
  templates: TemplatesByStack,
  nodeOfRef: (found: Found, value: unknown) => string | undefined,
): { method: string; path: string; target?: string }[] {
  const pathOf = (found: Found, resourceId: unknown): string => {
    const ref = findReferences(resourceId, found.stack, templates)[0];
    const resource = ref && templates.get(ref.target.stack)?.Resources?.[ref.target.logicalId];
    if (!resource || resource.Type !== 'AWS::ApiGateway::Resource') return '';
    const props = resource.Properties ?? {};
    return `${pathOf(found, props.ParentId)}/${String(props.PathPart)}`;
  };
  return methods
    .filter((method) => method.props.HttpMethod !== 'OPTIONS')
    .map((method) => ({
      method: String(method.props.HttpMethod),
      path: pathOf(method, method.props.ResourceId) || '/',
      target: nodeOfRef(method, method.props.Integration),
    }))
    .sort((a, b) => compare(a.path, b.path) || compare(a.method, b.method));
}

/** The training jobs a state machine definition starts (`ResourceConfig` of a training or tuning job). */
function trainingJobs(definition: unknown): Omit<TrainingFacts, 'node'>[] {
  const found: Omit<TrainingFacts, 'node'>[] = [];
  const visit = (value: unknown, tuning?: TrainingFacts['tuning']) => {
    if (Array.isArray(value)) return value.forEach((item) => visit(item, tuning));
    if (value === null || typeof value !== 'object') return;
    const props = value as Props;
    const limits = (props.HyperParameterTuningJobConfig as Props | undefined)?.ResourceLimits as
      Props | undefined;
    const here = limits
      ? { maxJobs: num(limits.MaxNumberOfTrainingJobs), maxParallelJobs: num(limits.MaxParallelTrainingJobs) }
      : tuning;
    const resources = props.ResourceConfig as Props | undefined;
    if (resources && typeof resources.InstanceType === 'string') {
      found.push({
        instanceType: resources.InstanceType,
        instanceCount: num(resources.InstanceCount),
        volumeGb: num(resources.VolumeSizeInGB),
        maxRuntimeSeconds: num((props.StoppingCondition as Props | undefined)?.MaxRuntimeInSeconds),
        spot: props.EnableManagedSpotTraining === true,
        tuning: here,
      });
    }
    for (const item of Object.values(props)) visit(item, here);
  };
  visit(definition);
  return found;
}
