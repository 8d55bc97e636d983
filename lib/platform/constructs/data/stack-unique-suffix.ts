import { Fn, Names, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The first 8 hex digits of the stack's id (`arn:...:stack/<name>/<uuid>`): fixed for the life of
 * the stack, new for every stack created under the same name. Resources that CloudFormation cannot
 * name and that outlive `cdk destroy` (retained log groups, feature groups) carry it, so the next
 * deploy never collides with what a destroyed predecessor left behind.
 */
export function stackUniqueSuffix(scope: IConstruct): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(scope).stackId))));
}

/**
 * A lower-case name for `scope`, unique in the account: the construct path (which carries the
 * design and profile through the stack name) cut to fit, then the stack suffix. At most
 * `maxLength` characters, letters, digits and `separator` only.
 */
export function uniqueRetainedName(scope: IConstruct, maxLength: number, separator = '-'): string {
  const base = Names.uniqueResourceName(scope, { maxLength: maxLength - 9, separator }).toLowerCase();
  return Fn.join(separator, [base, stackUniqueSuffix(scope)]);
}
