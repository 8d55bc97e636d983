import { allows, roleStatements } from './core/iam';
import { finding, type BlueprintRule, type Finding } from './core/rule';
import {
  configOfEndpoint,
  isServerless,
  machinesOf,
  modelsServedBy,
  sagemakerRequests,
  sameResource,
  variantsOf,
  type SageMakerRequest,
} from './core/sagemaker-requests';
import { sagemakerCalls } from './core/state-machines';
import { ACCOUNT, isKnownString, REGION, type ResourceRef, type TemplateSet } from './core/templates';

/** A deployment with guardrails: an endpoint created or updated with a `DeploymentConfig`. */
interface GuardedDeployment {
  readonly ref: ResourceRef;
  /** Where the DeploymentConfig sits. */
  readonly location: string;
  readonly label: string;
  readonly deploymentConfig: Record<string, unknown>;
  /** The endpoint deployed, when the app defines it. */
  readonly endpoint?: ResourceRef;
  /** The endpoint config(s) the deployment rolls out. */
  readonly newConfigs: readonly SageMakerRequest[];
  /** The config the endpoint runs before the deployment, for a state machine's update. */
  readonly currentConfig?: SageMakerRequest;
}

/**
 * Blue/green (all at once, canary, linear) and rolling deployments with auto-rollback, as documented:
 *
 * - https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html "When doing
 *   a blue/green or rolling deployment, your new endpoint configuration must have the same variant
 *   name as the old endpoint configuration. [...] If you're doing a rolling deployment, there are
 *   additional feature-based exclusions: Serverless inference endpoints, Multi-variant inference
 *   endpoints"
 * - https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html "Amazon
 *   CloudWatch alarms are a prerequisite for using baking periods in deployment guardrails. You can
 *   only use the auto-rollback functionality in deployment guardrails if you set up CloudWatch alarms
 *   that can monitor an endpoint." and "Ensure that your IAM execution role has permission to perform
 *   the cloudwatch:DescribeAlarms action on the auto-rollback alarms you specify." The execution role
 *   is the role SageMaker runs the endpoint's models as (CreateModel's ExecutionRoleArn).
 * - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html CanarySize
 *   "Value must be less than or equal to 50% of the variant's total instance count."; LinearStepSize
 *   "Value must be 10-50% of the variant's total instance count." A serverless variant has no
 *   instance count, so a size in instances cannot hold there.
 *
 * Applies to `AWS::SageMaker::Endpoint` resources with a DeploymentConfig, and to the
 * UpdateEndpoint/CreateEndpoint requests of state machines that pass one.
 */
export const DeploymentGuardrails: BlueprintRule = {
  id: 'deployment-guardrails',
  description:
    'A guarded endpoint deployment keeps variant names, uses no rolling update on serverless or multi-variant endpoints, sizes canary and linear steps within the variants, and rolls back on app alarms that watch the endpoint and that the model execution role may describe.',
  documentation: 'https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html',
  check(set) {
    const findings: Finding[] = [];
    for (const deployment of guardedDeployments(set)) {
      const at = (...parts: string[]) => [deployment.location, ...parts].join('/');
      const add = (path: string, message: string) =>
        findings.push(finding(deployment.ref, path, `${deployment.label}: ${message}`));
      const config = deployment.deploymentConfig;
      const blueGreen = member(config, 'BlueGreenUpdatePolicy') as Record<string, unknown> | undefined;
      const rolling = member(config, 'RollingUpdatePolicy') as Record<string, unknown> | undefined;
      const routing = member(blueGreen, 'TrafficRoutingConfiguration') as Record<string, unknown> | undefined;
      const routingType = member(routing, 'Type');
      const configs = [
        ...deployment.newConfigs,
        ...(deployment.currentConfig ? [deployment.currentConfig] : []),
      ];

      if (rolling && configs.some(isServerless)) {
        add(at('RollingUpdatePolicy'), 'a rolling deployment on a serverless endpoint is not supported');
      }
      if (rolling && configs.some((c) => variantsOf(c.params).length > 1)) {
        add(at('RollingUpdatePolicy'), 'a rolling deployment on a multi-variant endpoint is not supported');
      }

      // Canary and linear step sizes against every variant the deployment rolls out.
      for (const [sizeName, low, high] of [
        ['CanarySize', 0, 0.5],
        ['LinearStepSize', 0.1, 0.5],
      ] as const) {
        const size = member(routing, sizeName) as Record<string, unknown> | undefined;
        if (!size) continue;
        const type = member(size, 'Type');
        const value = member(size, 'Value');
        if (typeof value !== 'number') continue;
        for (const newConfig of deployment.newConfigs) {
          for (const variant of variantsOf(newConfig.params)) {
            const count = variant.InitialInstanceCount;
            if (type === 'INSTANCE_COUNT' && variant.ServerlessConfig !== undefined) {
              add(
                at(sizeName),
                `${sizeName} counts instances, but variant ${variant.VariantName} is serverless and has none`,
              );
            } else if (
              type === 'INSTANCE_COUNT' &&
              typeof count === 'number' &&
              (value > count * high || value < count * low)
            ) {
              add(
                at(sizeName),
                `${sizeName} of ${value} instance(s) is outside ${low * 100}-${high * 100}% of variant ${variant.VariantName}'s ${count} instances`,
              );
            } else if (type === 'CAPACITY_PERCENT' && (value > high * 100 || value < low * 100)) {
              add(at(sizeName), `${sizeName} of ${value}% is outside ${low * 100}-${high * 100}%`);
            }
          }
        }
      }

      // Variant names must stay the same across a blue/green or rolling update.
      if (deployment.currentConfig) {
        const before = variantsOf(deployment.currentConfig.params).map((v) => v.VariantName);
        for (const newConfig of deployment.newConfigs) {
          const after = variantsOf(newConfig.params).map((v) => v.VariantName);
          if (before.every(isKnownString) && after.every(isKnownString) && !sameSet(before, after)) {
            add(
              newConfig.location,
              `the new config's variants (${after.join(', ')}) differ from the endpoint's (${before.join(', ')})`,
            );
          }
        }
      }

      // Auto-rollback alarms: present when there is a baking period, in the app, watching the endpoint.
      const rollback = member(config, 'AutoRollbackConfiguration') as Record<string, unknown> | undefined;
      const alarms = (member(rollback, 'Alarms') ?? []) as Array<Record<string, unknown>>;
      if ((routingType === 'CANARY' || routingType === 'LINEAR') && alarms.length === 0) {
        add(
          at('AutoRollbackConfiguration'),
          `a ${routingType} deployment bakes on CloudWatch alarms, but names none`,
        );
      }
      const alarmNames: string[] = [];
      const blind: string[] = [];
      alarms.forEach((entry, i) => {
        const name = member(entry, 'AlarmName');
        if (!isKnownString(name)) return;
        const alarm = set.resourceNamedBy(name, 'AWS::CloudWatch::Alarm');
        if (alarm) alarmNames.push(set.physicalName(alarm));
        if (!alarm)
          add(
            at('AutoRollbackConfiguration', 'Alarms', String(i)),
            `rollback alarm "${name}" is not an alarm of the app`,
          );
        else if (deployment.endpoint && !watches(set, alarm, deployment.endpoint))
          blind.push(alarm.logicalId);
      });
      if (blind.length > 0) {
        add(
          at('AutoRollbackConfiguration'),
          `rollback alarms ${blind.join(', ')} do not watch endpoint ${deployment.endpoint!.logicalId} (no AWS/SageMaker EndpointName dimension names it), so they cannot roll the deployment back`,
        );
      }

      // The execution role of the models rolled out must be able to describe the alarms.
      if (alarmNames.length > 0) {
        const roles = new Map<string, ResourceRef>();
        for (const newConfig of deployment.newConfigs) {
          for (const model of modelsServedBy(set, newConfig)) {
            const role = set.resourceNamedBy(model.params.ExecutionRoleArn, 'AWS::IAM::Role');
            if (role) roles.set(`${role.stack.stackName}/${role.logicalId}`, role);
          }
        }
        for (const role of roles.values()) {
          const statements = roleStatements(set, role);
          const missing = alarmNames.filter(
            (name) =>
              !allows(
                statements,
                'cloudwatch:DescribeAlarms',
                `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`,
              ),
          );
          if (missing.length > 0) {
            add(
              at('AutoRollbackConfiguration'),
              `execution role ${role.logicalId} (${role.stack.stackName}) may not cloudwatch:DescribeAlarms on the rollback alarms (${missing.map((m) => display(m)).join(', ')})`,
            );
          }
        }
      }
    }
    return findings;
  },
};

function guardedDeployments(set: TemplateSet): GuardedDeployment[] {
  const deployments: GuardedDeployment[] = [];
  for (const endpoint of set.resources('AWS::SageMaker::Endpoint')) {
    const deploymentConfig = set.resolve(endpoint.stack, endpoint.resource.Properties?.DeploymentConfig);
    if (!deploymentConfig || typeof deploymentConfig !== 'object') continue;
    const config = configOfEndpoint(set, endpoint);
    deployments.push({
      ref: endpoint,
      location: 'Properties/DeploymentConfig',
      label: `Endpoint ${endpoint.logicalId}`,
      deploymentConfig: deploymentConfig as Record<string, unknown>,
      endpoint,
      newConfigs: config ? [config] : [],
    });
  }
  for (const machine of machinesOf(set)) {
    for (const call of [
      ...sagemakerCalls(machine, 'UpdateEndpoint'),
      ...sagemakerCalls(machine, 'CreateEndpoint'),
    ]) {
      const deploymentConfig = member(call.parameters, 'DeploymentConfig');
      if (!deploymentConfig || typeof deploymentConfig !== 'object') continue;
      const endpoint = set.resourceNamedBy(call.parameters.EndpointName, 'AWS::SageMaker::Endpoint');
      const configName = call.parameters.EndpointConfigName;
      const named = set.resourceNamedBy(configName, 'AWS::SageMaker::EndpointConfig');
      const allConfigs = sagemakerRequests(set, 'CreateEndpointConfig');
      const newConfigs = named
        ? allConfigs.filter((c) => !c.machine && sameResource(c.ref, named))
        : allConfigs.filter((c) => c.machine === machine);
      deployments.push({
        ref: machine.ref,
        location: `${call.path}/DeploymentConfig`,
        label: `task ${call.state}`,
        deploymentConfig: deploymentConfig as Record<string, unknown>,
        endpoint,
        newConfigs,
        currentConfig: endpoint ? configOfEndpoint(set, endpoint) : undefined,
      });
    }
  }
  return deployments;
}

/** Whether an alarm's AWS/SageMaker metric (or one of its metric-math metrics) names the endpoint. */
function watches(set: TemplateSet, alarm: ResourceRef, endpoint: ResourceRef): boolean {
  const props = alarm.resource.Properties ?? {};
  const metrics = [
    { namespace: props.Namespace, dimensions: props.Dimensions },
    ...(Array.isArray(props.Metrics) ? props.Metrics : []).map(
      (q: { MetricStat?: { Metric?: { Namespace?: unknown; Dimensions?: unknown } } }) => ({
        namespace: q?.MetricStat?.Metric?.Namespace,
        dimensions: q?.MetricStat?.Metric?.Dimensions,
      }),
    ),
  ];
  return metrics.some(
    (m) =>
      set.resolve(alarm.stack, m.namespace) === 'AWS/SageMaker' &&
      Array.isArray(m.dimensions) &&
      m.dimensions.some((d: { Name?: unknown; Value?: unknown }) => {
        if (set.resolve(alarm.stack, d.Name) !== 'EndpointName') return false;
        const named = set.resourceNamedBy(set.resolve(alarm.stack, d.Value), 'AWS::SageMaker::Endpoint');
        return named !== undefined && sameResource(named, endpoint);
      }),
  );
}

/** A member of a request, whatever the case of its key (request keys are checked elsewhere). */
function member(object: unknown, name: string): unknown {
  if (!object || typeof object !== 'object') return undefined;
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (object as Record<string, unknown>)[key];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function display(value: string): string {
  return value.replace(/«name!([^!]+)!([^»]+)»/g, '$2');
}
