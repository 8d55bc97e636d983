import {
  CloudFormationCustomResourceCreateSchema,
  CloudFormationCustomResourceDeleteSchema,
  CloudFormationCustomResourceUpdateSchema,
} from '@aws-lambda-powertools/parser/schemas/cloudformation-custom-resource';
import { z } from 'zod';

/**
 * What a handler behind aws-cdk-lib's provider framework reads of a custom resource event
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html): the
 * request type, with Powertools' own definitions of it, and the resource's properties, with
 * `properties` as their schema. The rest of the event (the ids, the ResponseURL the framework
 * keeps to itself) is not read.
 */
export function customResourceEvent<P extends z.ZodType>(properties: P) {
  const resource = { ResourceProperties: properties };
  return z.discriminatedUnion(
    'RequestType',
    [
      CloudFormationCustomResourceCreateSchema.pick({ RequestType: true }).extend(resource),
      CloudFormationCustomResourceUpdateSchema.pick({ RequestType: true }).extend(resource),
      CloudFormationCustomResourceDeleteSchema.pick({ RequestType: true }).extend(resource),
    ],
    {
      error: (issue) =>
        issue.code === 'invalid_union' ? 'must be Create, Update or Delete' : 'must be an object',
    },
  );
}
