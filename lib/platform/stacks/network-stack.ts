import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Profile } from '../config/profile';
import { PrivateNetwork } from '../constructs/network/private-network';

export interface NetworkStackProps extends StackProps {
  readonly profile: Profile;
}

/** The VPC every other stack runs in; it outlives them, so it has a stack of its own. */
export class NetworkStack extends Stack {
  public readonly network: PrivateNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    this.network = new PrivateNetwork(this, 'Network', {
      maxAzs: props.profile.network.maxAzs,
      interfaceEndpointAzs: props.profile.network.interfaceEndpointAzs,
      flowLogRetention: props.profile.logRetention,
      removalPolicy: props.profile.removalPolicy,
    });
  }
}
