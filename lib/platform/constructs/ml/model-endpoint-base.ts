import { Duration, Resource, Stack, Token, type IResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AbVariant } from '../../config/design';

/** Options of an endpoint metric: CloudWatch's, and which production variant it is of. */
export interface EndpointMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The production variant whose metric this is; one of the endpoint's `variants`.
   * @default - the champion, the endpoint's first variant
   */
  readonly variantName?: string;
}

/**
 * A real-time SageMaker endpoint with named production variants: what invoking it, watching it and
 * alarming on it need, whether this app built it (`ModelEndpoint`) or imported it
 * (`ModelEndpoint.fromEndpointAttributes`).
 */
export interface IModelEndpoint extends IResource {
  /** The endpoint's name, as `InvokeEndpoint` takes it. @attribute */
  readonly endpointName: string;
  /** The endpoint's ARN, for IAM. @attribute */
  readonly endpointArn: string;
  /** Its production variants and their shares of traffic; the first is the champion. */
  readonly variants: readonly AbVariant[];
  /** Lets `grantee` call `InvokeEndpoint` on this endpoint, on any of its variants. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
  /** A metric of this endpoint's variant in `AWS/SageMaker`, by its CloudWatch name. */
  metric(metricName: string, props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Requests the variant answered, any status. @default Sum over 1 minute */
  metricInvocations(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Time the model took to answer, in microseconds. @default Average over 1 minute */
  metricModelLatency(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Requests the model answered with a 5xx. @default Sum over 1 minute */
  metricInvocation5XXErrors(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** A utilisation metric of the variant's instances in `/aws/sagemaker/Endpoints`, by its name. */
  metricInstance(metricName: string, props?: EndpointMetricOptions): cloudwatch.Metric;
  /** CPU use of the variant's instances, in percent of one core (100 per core). @default Average over 1 minute */
  metricCpuUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** GPU use of the variant's instances, in percent of one GPU (100 per GPU). @default Average over 1 minute */
  metricGpuUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Memory use of the variant's instances, in percent. @default Average over 1 minute */
  metricMemoryUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
}

/** An endpoint this app did not build, known by its name and variants. */
export interface ModelEndpointAttributes {
  readonly endpointName: string;
  /**
   * @default - the ARN of `endpointName` in the importing stack's account and region, in lower
   *   case as SageMaker writes endpoint ARNs
   */
  readonly endpointArn?: string;
  /** Its production variants, champion first, as its endpoint config names them. */
  readonly variants: readonly AbVariant[];
}

/**
 * What every model endpoint can do, built or imported: grants and metrics. Metric dimensions come
 * from here, never from a caller's string: a misspelt dimension is an alarm that never fires.
 */
export abstract class ModelEndpointBase extends Resource implements IModelEndpoint {
  public abstract readonly endpointName: string;
  public abstract readonly endpointArn: string;
  public abstract readonly variants: readonly AbVariant[];
  /** The `EndpointName` dimension: a name known without waiting for the endpoint resource. */
  protected abstract readonly metricEndpointName: string;

  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [this.endpointArn],
    });
  }

  /**
   * Endpoint invocation metrics are in `AWS/SageMaker`, per `EndpointName` and `VariantName`, sent
   * every minute; `ModelLatency` is in microseconds
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
   */
  public metric(metricName: string, props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric('AWS/SageMaker', metricName, props);
  }

  private variantMetric(
    namespace: string,
    metricName: string,
    props: EndpointMetricOptions,
  ): cloudwatch.Metric {
    const { variantName, ...options } = props;
    return new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { EndpointName: this.metricEndpointName, VariantName: this.variant(variantName) },
      period: Duration.minutes(1),
      ...options,
    });
  }

  public metricInvocations(props?: EndpointMetricOptions): cloudwatch.Metric {
    return this.metric('Invocations', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  public metricModelLatency(props?: EndpointMetricOptions): cloudwatch.Metric {
    return this.metric('ModelLatency', { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  public metricInvocation5XXErrors(props?: EndpointMetricOptions): cloudwatch.Metric {
    return this.metric('Invocation5XXErrors', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Instance metrics are in `/aws/sagemaker/Endpoints`, per `EndpointName` and `VariantName`:
   * CPUUtilization, MemoryUtilization, GPUUtilization, GPUMemoryUtilization, DiskUtilization
   * (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html, "SageMaker AI
   * endpoint instance metrics"). Instance hosting only: a serverless endpoint has no instances.
   */
  public metricInstance(metricName: string, props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric('/aws/sagemaker/Endpoints', metricName, props);
  }

  public metricCpuUtilization(props?: EndpointMetricOptions): cloudwatch.Metric {
    return this.metricInstance('CPUUtilization', { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  public metricGpuUtilization(props?: EndpointMetricOptions): cloudwatch.Metric {
    return this.metricInstance('GPUUtilization', { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  public metricMemoryUtilization(props?: EndpointMetricOptions): cloudwatch.Metric {
    return this.metricInstance('MemoryUtilization', { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  private variant(name: string | undefined): string {
    if (name === undefined) return this.variants[0].name;
    if (!this.variants.some((variant) => variant.name === name)) {
      throw new Error(
        `${this.node.path}: no variant ${JSON.stringify(name)}; the endpoint's variants are ${this.variants.map((v) => v.name).join(', ')}`,
      );
    }
    return name;
  }
}

/** An imported endpoint. */
export class ImportedModelEndpoint extends ModelEndpointBase {
  public readonly endpointName: string;
  public readonly endpointArn: string;
  public readonly variants: readonly AbVariant[];
  protected readonly metricEndpointName: string;

  constructor(scope: Construct, id: string, attrs: ModelEndpointAttributes) {
    const problems: string[] = [];
    if (attrs.variants.length === 0) problems.push('variants: at least one is required');
    // A template has no lower-case function: an ARN for a name known only at deploy time must be given.
    if (attrs.endpointArn === undefined && Token.isUnresolved(attrs.endpointName)) {
      problems.push('endpointArn: required when endpointName is a token');
    }
    if (problems.length > 0) {
      throw new Error(`Invalid attributes of endpoint ${id}:\n  - ${problems.join('\n  - ')}`);
    }
    const endpointArn =
      attrs.endpointArn ??
      Stack.of(scope).formatArn({
        service: 'sagemaker',
        resource: 'endpoint',
        resourceName: attrs.endpointName.toLowerCase(),
      });
    super(scope, id, { environmentFromArn: endpointArn });
    this.endpointName = attrs.endpointName;
    this.endpointArn = endpointArn;
    this.variants = attrs.variants;
    this.metricEndpointName = attrs.endpointName;
  }
}
