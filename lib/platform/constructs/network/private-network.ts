import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface PrivateNetworkProps {
  /** Availability zones to span; the cache and functions get a subnet in each. */
  readonly maxAzs: number;
  /**
   * Availability zones that receive a network interface of each interface endpoint. Every AZ can
   * reach an endpoint in another AZ, so fewer AZs trade resilience for the per-AZ hourly charge.
   * @default - every AZ of the network
   */
  readonly interfaceEndpointAzs?: number;
  /** @default - one week */
  readonly flowLogRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A VPC with isolated subnets only: nothing in it reaches the internet and nothing is reachable from
 * it, so there is no NAT gateway to pay for. AWS APIs are reached through VPC endpoints added with
 * `addInterfaceEndpoint`; S3 through a gateway endpoint, which is free.
 */
export class PrivateNetwork extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Where functions, caches and databases go. */
  public readonly isolatedSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  private readonly endpointSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        Rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    const endpointAzs = Math.min(props.interfaceEndpointAzs ?? props.maxAzs, props.maxAzs);
    this.endpointSubnets = {
      subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
      availabilityZones: this.vpc.availabilityZones.slice(0, endpointAzs),
    };
  }

  /**
   * Adds a private interface endpoint for an AWS service, reachable over HTTPS from inside the VPC
   * under the service's usual DNS name. Adding the same service twice returns the first endpoint.
   */
  public addInterfaceEndpoint(
    id: string,
    service: ec2.InterfaceVpcEndpointAwsService,
  ): ec2.InterfaceVpcEndpoint {
    const existing = this.node.tryFindChild(id);
    if (existing) return existing as ec2.InterfaceVpcEndpoint;
    const endpoint = new ec2.InterfaceVpcEndpoint(this, id, {
      vpc: this.vpc,
      service,
      subnets: this.endpointSubnets,
      privateDnsEnabled: true,
      // Admits HTTPS from the VPC's own range only; the subnets have no route to anywhere else.
      open: true,
    });
    Validations.of(endpoint).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: "The endpoint admits HTTPS from the VPC's own CIDR only (the rule cannot read the CIDR token).",
    });
    return endpoint;
  }
}
