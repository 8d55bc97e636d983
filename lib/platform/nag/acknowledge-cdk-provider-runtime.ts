import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The rule id of cdk-nag's check that a function runs its family's latest runtime. */
export const LATEST_RUNTIME_RULE = 'AwsSolutions-L1';

/**
 * Acknowledges cdk-nag's L1 (latest runtime) on `scope`: a function aws-cdk-lib makes for its own
 * custom resources (the `Provider` framework's functions, the `AwsCustomResource` singleton), or a
 * construct above it. aws-cdk-lib picks and tests their runtime, and moves it forward in its own
 * releases; they run only while CloudFormation deploys
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html).
 * Functions of this app never take it: they set their runtime themselves.
 */
export function acknowledgeCdkProviderRuntime(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: LATEST_RUNTIME_RULE,
    reason:
      'A custom resource function of aws-cdk-lib: its runtime is chosen and upgraded by aws-cdk-lib releases, and it runs only during deployments ' +
      '(https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html).',
  });
}
