import { finding, type BlueprintRule, type Finding } from './core/rule';
import {
  configOfEndpoint,
  machinesOf,
  sagemakerRequests,
  sameResource,
  variantsOf,
} from './core/sagemaker-requests';
import { sagemakerCalls } from './core/state-machines';
import { isKnownString, type ResourceRef, type TemplateSet } from './core/templates';

interface ScaledEndpoint {
  /** The endpoint resource, when the app defines it. */
  readonly endpoint?: ResourceRef;
  /** The endpoint's name as the scalable target's ResourceId spells it. */
  readonly name: string;
  readonly variants: readonly string[];
}

/**
 * An endpoint whose variants Application Auto Scaling scales must be updated with
 * `RetainAllVariantProperties: true`, or every update resets each variant to the InitialInstanceCount
 * of the new config whatever the load; and an update must not change a scaled variant's instance type.
 *
 * https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html "If you want to retain
 * the variant properties, such as instance count or weight, set the value of the
 * RetainAllVariantProperties parameter to True. This specifies that production variants with the
 * same name will are updated with the most recent DesiredInstanceCount from the response from the
 * call to DescribeEndpoint, regardless of the values of the InitialInstanceCount field in the new
 * EndpointConfig." and "If the update would change the instance type for any model that is a target
 * for auto scaling, the update fails."
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html
 * RetainAllVariantProperties "The default is false."
 *
 * Applies to the UpdateEndpoint requests of state machines and to the `AWS::SageMaker::Endpoint`
 * itself (CloudFormation calls UpdateEndpoint when its config changes).
 */
export const AutoscaledEndpointRetainsVariants: BlueprintRule = {
  id: 'autoscaled-endpoint-retains-variants',
  description:
    'Every update of an auto-scaled endpoint sets RetainAllVariantProperties: true (without overriding DesiredInstanceCount) and keeps the instance type of scaled variants.',
  documentation: 'https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html',
  check(set) {
    const findings: Finding[] = [];
    const scaled = scaledEndpoints(set);
    const scaledFor = (name: unknown) =>
      scaled.find(
        (s) =>
          (isKnownString(name) && s.name === name) ||
          (s.endpoint !== undefined &&
            sameOrUndefined(set.resourceNamedBy(name, 'AWS::SageMaker::Endpoint'), s.endpoint)),
      );
    const checkRequest = (
      ref: ResourceRef,
      at: string,
      label: string,
      params: Record<string, unknown>,
      target: ScaledEndpoint,
    ) => {
      const what = `${label} updates auto-scaled endpoint ${target.endpoint?.logicalId ?? target.name}`;
      if (params.RetainAllVariantProperties !== true) {
        findings.push(
          finding(
            ref,
            `${at}/RetainAllVariantProperties`,
            `${what} without RetainAllVariantProperties: true: each update resets the scaled instance counts to the new config's InitialInstanceCount`,
          ),
        );
      }
      const excluded = Array.isArray(params.ExcludeRetainedVariantProperties)
        ? (params.ExcludeRetainedVariantProperties as Array<Record<string, unknown>>)
        : [];
      if (excluded.some((e) => e.VariantPropertyType === 'DesiredInstanceCount')) {
        findings.push(
          finding(
            ref,
            `${at}/ExcludeRetainedVariantProperties`,
            `${what} and overrides DesiredInstanceCount`,
          ),
        );
      }
    };

    for (const target of scaled) {
      if (target.endpoint) {
        const props = set.resolve(target.endpoint.stack, target.endpoint.resource.Properties ?? {}) as Record<
          string,
          unknown
        >;
        checkRequest(target.endpoint, 'Properties', `Endpoint ${target.endpoint.logicalId}`, props, target);
      }
    }
    for (const machine of machinesOf(set)) {
      for (const call of sagemakerCalls(machine, 'UpdateEndpoint')) {
        const target = scaledFor(call.parameters.EndpointName);
        if (!target) continue;
        checkRequest(machine.ref, call.path, `task ${call.state}`, call.parameters, target);
        // The new config must keep the instance type of every scaled variant.
        const current = target.endpoint ? configOfEndpoint(set, target.endpoint) : undefined;
        const named = set.resourceNamedBy(
          call.parameters.EndpointConfigName,
          'AWS::SageMaker::EndpointConfig',
        );
        const newConfigs = sagemakerRequests(set, 'CreateEndpointConfig').filter((c) =>
          named ? !c.machine && sameResource(c.ref, named) : c.machine === machine,
        );
        if (!current) continue;
        for (const newConfig of newConfigs) {
          for (const variant of variantsOf(newConfig.params)) {
            const before = variantsOf(current.params).find((v) => v.VariantName === variant.VariantName);
            if (
              before &&
              target.variants.includes(String(variant.VariantName)) &&
              isKnownString(before.InstanceType) &&
              isKnownString(variant.InstanceType) &&
              before.InstanceType !== variant.InstanceType
            ) {
              findings.push(
                finding(
                  newConfig.ref,
                  newConfig.location,
                  `variant ${variant.VariantName} moves from ${before.InstanceType} to ${variant.InstanceType} while auto-scaled: UpdateEndpoint fails`,
                ),
              );
            }
          }
        }
      }
    }
    return findings;
  },
};

function sameOrUndefined(a: ResourceRef | undefined, b: ResourceRef): boolean {
  return a !== undefined && sameResource(a, b);
}

/** Endpoints with a variant registered as an Application Auto Scaling target. */
function scaledEndpoints(set: TemplateSet): ScaledEndpoint[] {
  const byName = new Map<string, { endpoint?: ResourceRef; variants: string[] }>();
  for (const target of set.resources('AWS::ApplicationAutoScaling::ScalableTarget')) {
    const props = target.resource.Properties ?? {};
    if (set.resolve(target.stack, props.ServiceNamespace) !== 'sagemaker') continue;
    const resourceId = set.resolveString(target.stack, props.ResourceId);
    const match = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(resourceId);
    if (!match) continue;
    const entry = byName.get(match[1]) ?? {
      endpoint: set.resourceNamedBy(match[1], 'AWS::SageMaker::Endpoint'),
      variants: [],
    };
    entry.variants.push(match[2]);
    byName.set(match[1], entry);
  }
  return [...byName.entries()].map(([name, e]) => ({ name, endpoint: e.endpoint, variants: e.variants }));
}
