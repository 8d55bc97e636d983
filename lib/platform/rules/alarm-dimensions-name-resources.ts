import { finding, type BlueprintRule, type Finding } from './core/rule';
import { configOfEndpoint, variantsOf } from './core/sagemaker-requests';
import { isKnownString, type ResourceRef, type TemplateSet } from './core/templates';

/**
 * For each AWS namespace the app's alarms use: the dimension that names a resource, and the type
 * of that resource. The metric names and dimensions are from each service's CloudWatch metrics page,
 * e.g. https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html (EndpointName,
 * VariantName), https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 * (FunctionName), https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
 * (ApiName: the API's name).
 */
const NAMING_DIMENSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'AWS/SageMaker': { EndpointName: 'AWS::SageMaker::Endpoint' },
  'AWS/Lambda': { FunctionName: 'AWS::Lambda::Function' },
  'AWS/ApiGateway': { ApiName: 'AWS::ApiGateway::RestApi' },
  'AWS/Firehose': { DeliveryStreamName: 'AWS::KinesisFirehose::DeliveryStream' },
  'AWS/States': { StateMachineArn: 'AWS::StepFunctions::StateMachine' },
  'AWS/SNS': { TopicName: 'AWS::SNS::Topic' },
  'AWS/SQS': { QueueName: 'AWS::SQS::Queue' },
  'AWS/RDS': { DBClusterIdentifier: 'AWS::RDS::DBCluster' },
  'AWS/ElastiCache': { clusterId: 'AWS::ElastiCache::ServerlessCache' },
};

interface Metric {
  readonly namespace: unknown;
  readonly dimensions: unknown;
  readonly location: string;
}

/**
 * An alarm's dimensions name resources of the app: a dimension that names nothing is a metric
 * nobody publishes, and an alarm on it never fires.
 *
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension
 * "CloudWatch treats each unique combination of dimensions as a separate metric. You can't retrieve
 * statistics using combinations of dimensions that you did not specially publish."
 *
 * A value is checked when it is known at synth: a literal must equal the physical name the template
 * gives a resource of the right type (an explicit name property), a reference must point at one.
 * On `AWS/SageMaker` the `VariantName` must also be a variant of that endpoint's config.
 */
export const AlarmDimensionsNameResources: BlueprintRule = {
  id: 'alarm-dimensions-name-resources',
  description: 'Every resource-naming dimension of an alarm on an AWS namespace names a resource of the app.',
  documentation:
    'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension',
  check(set) {
    const findings: Finding[] = [];
    for (const alarm of set.resources('AWS::CloudWatch::Alarm')) {
      for (const metric of metricsOf(alarm)) {
        const namespace = set.resolve(alarm.stack, metric.namespace);
        const naming = typeof namespace === 'string' ? NAMING_DIMENSIONS[namespace] : undefined;
        if (!naming || !Array.isArray(metric.dimensions)) continue;
        const dims = (metric.dimensions as Array<{ Name?: unknown; Value?: unknown }>).map((d) => ({
          name: set.resolve(alarm.stack, d.Name),
          value: set.resolve(alarm.stack, d.Value),
        }));
        dims.forEach((dim, i) => {
          const type = typeof dim.name === 'string' ? naming[dim.name] : undefined;
          if (!type || !isKnownString(dim.value)) return;
          const named = namedResource(set, type, dim.value);
          const at = `${metric.location}/Dimensions/${i}`;
          if (!named) {
            findings.push(
              finding(
                alarm,
                at,
                `${namespace} dimension ${dim.name}=${display(dim.value)} names no ${type} of the app: the alarm watches a metric nobody publishes`,
              ),
            );
            return;
          }
          if (type === 'AWS::SageMaker::Endpoint') {
            const variant = dims.find((d) => d.name === 'VariantName');
            const config = configOfEndpoint(set, named);
            const variants = config ? variantsOf(config.params).map((v) => v.VariantName) : [];
            if (variant && isKnownString(variant.value) && config && !variants.includes(variant.value)) {
              findings.push(
                finding(
                  alarm,
                  `${metric.location}/Dimensions/${dims.indexOf(variant)}`,
                  `VariantName=${variant.value} is not a variant of endpoint ${named.logicalId} (${variants.join(', ')})`,
                ),
              );
            }
          }
        });
      }
    }
    return findings;
  },
};

function metricsOf(alarm: ResourceRef): Metric[] {
  const props = alarm.resource.Properties ?? {};
  const metrics: Metric[] = [
    { namespace: props.Namespace, dimensions: props.Dimensions, location: 'Properties' },
  ];
  if (Array.isArray(props.Metrics)) {
    props.Metrics.forEach(
      (query: { MetricStat?: { Metric?: { Namespace?: unknown; Dimensions?: unknown } } }, i) => {
        const metric = query?.MetricStat?.Metric;
        if (metric) {
          metrics.push({
            namespace: metric.Namespace,
            dimensions: metric.Dimensions,
            location: `Properties/Metrics/${i}/MetricStat/Metric`,
          });
        }
      },
    );
  }
  return metrics;
}

function namedResource(set: TemplateSet, type: string, value: string): ResourceRef | undefined {
  if (type === 'AWS::ApiGateway::RestApi') {
    // API Gateway publishes under the API's Name, not its id.
    return set.resources(type).find((api) => set.resolve(api.stack, api.resource.Properties?.Name) === value);
  }
  return set.resourceNamedBy(value, type);
}

function display(value: string): string {
  return value.replace(/«name!([^!]+)!([^»]+)»/g, '<name of $1/$2>');
}
