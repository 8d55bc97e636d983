/**
 * The one place the harness imports the AWS API model validator from (`test/aws-api-models/`,
 * botocore's service models).
 */
export { assertValidRequest, outputMembers, validateRequest } from '../aws-api-model';
