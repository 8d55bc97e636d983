/**
 * Step Functions task parameters typed by the AWS SDK's request shape (`@aws-sdk/client-*` input
 * types), so a member misnamed or in the wrong casing fails `tsc` instead of the first run. Any
 * member may instead be given as a JSONPath (`"Name.$": "$.path"`), resolved at run time.
 *
 * Required members are not enforced here (a JSONPath may supply them): the tests validate every
 * task against the service's published API model for that.
 */
export type TaskParameters<T> = {
  readonly [K in keyof T & string]?: ParameterValue<NonNullable<T[K]>>;
} & { readonly [K in keyof T & string as `${K}.$`]?: string };

type ParameterValue<V> = V extends readonly (infer U)[]
  ? readonly ParameterValue<U>[]
  : V extends Date | Uint8Array
    ? V | string
    : V extends object
      ? TaskParameters<V>
      : V;

/** Parameters of an SDK integration task, checked against the SDK's input type `T`. */
export function sdkParameters<T>(parameters: TaskParameters<T>): Record<string, unknown> {
  return parameters as Record<string, unknown>;
}
