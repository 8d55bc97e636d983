import { Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';

/**
 * Acknowledges, on a custom resource `provider`, cdk-nag's IAM5 finding for the grant aws-cdk-lib
 * writes its framework functions: `lambda:InvokeFunction` on `handler` and on the handler's versions
 * and aliases (`<handler ARN>:*`). The finding names the handler, so no other wildcard is covered.
 * The provider and the handler must be in one stack: the finding is the handler's ARN as that
 * stack's template writes it.
 */
export function acknowledgeProviderInvokesHandler(provider: cr.Provider, handler: lambda.IFunction): void {
  const stack = Stack.of(provider);
  if (Stack.of(handler) !== stack) {
    throw new Error(
      `${provider.node.path}: the handler ${handler.node.path} is in another stack; keep a provider beside its handler`,
    );
  }
  const handlerArn = flattenCfnReference(stack.resolve(handler.functionArn));
  Validations.of(provider).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${handlerArn}:*]`,
    reason:
      "The custom resource provider framework invokes its one handler; aws-cdk-lib's grant names the function and its versions (ARN:*).",
  });
}
