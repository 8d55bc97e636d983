import type { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** A function with inline code, so a small stack synthesizes without bundling. */
export function inlineFunction(
  stack: Stack,
  id: string,
  props: Partial<lambda.FunctionProps> = {},
): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    ...props,
  });
}
