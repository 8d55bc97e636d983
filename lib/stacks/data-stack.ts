import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { Profile } from '../config/profile';
import { ARTIFACT_PREFIXES } from '../constructs/ml/artifact-layout';
import { SecureBucket } from '../constructs/storage/secure-bucket';

export interface DataStackProps extends StackProps {
  readonly profile: Profile;
}

/**
 * The stateful layer: the key and the bucket that hold training snapshots, model artefacts,
 * checkpoints and captured endpoint traffic. It outlives the stacks that compute with them.
 */
export class DataStack extends Stack {
  public readonly key: kms.Key;
  public readonly artifacts: SecureBucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { profile } = props;
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts training data, model artefacts and captured inference traffic',
      enableKeyRotation: true,
      removalPolicy: profile.removalPolicy,
      // A destroyed sandbox key waits the minimum before deletion; production keeps its key.
      pendingWindow: Duration.days(7),
    });
    this.artifacts = new SecureBucket(this, 'Artifacts', {
      encryptionKey: this.key,
      removalPolicy: profile.removalPolicy,
      versioned: profile.name === 'production',
      expirations: {
        [ARTIFACT_PREFIXES.checkpoints]: 7,
        [ARTIFACT_PREFIXES.dataCapture]: profile.name === 'production' ? 90 : 14,
      },
    });
  }
}
