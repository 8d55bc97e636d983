/**
 * Checks AWS SDK requests against the botocore API models pinned in test/aws-api-models: member
 * names and casing, required members, types, enums, lengths, ranges and patterns. See
 * test/aws-api-models/README.md for where the models come from and how to update them.
 */
export { loadServiceModel, pinnedServices, type ServiceModel, type Shape, type Operation } from './model';
export {
  validateRequest,
  assertValidRequest,
  outputMembers,
  formatProblems,
  type ApiModelProblem,
  type ValidateOptions,
} from './validate';
export { translateJavaPattern } from './java-regex';
export { botocoreServiceOf } from './sdk-services';
