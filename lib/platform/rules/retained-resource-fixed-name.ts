import { finding, type BlueprintRule, type Finding } from './core/rule';
import { RESOURCE_TYPES, UNKNOWN, type TemplateSet } from './core/templates';

/** Policies under which the resource outlives its stack (or its replaced self) under the same name. */
const RETAINING = ['Retain', 'RetainExceptOnCreate'];

/**
 * A resource CloudFormation keeps when the stack is deleted (or when an update replaces it) must not
 * carry a fixed physical name: the next deploy creates it again under the same name and fails with
 * "already exists". Its name must be left to CloudFormation, or include the part of `AWS::StackId`
 * that is new with every stack creation.
 *
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
 * "Retain: CloudFormation keeps the resource without deleting the resource or its contents when its
 * stack is deleted." `Snapshot` deletes the resource after the snapshot, so its name is free again.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
 * "If you specify a name, you can't perform updates that require replacement of this resource."
 */
export const RetainedResourceFixedName: BlueprintRule = {
  id: 'retained-resource-fixed-name',
  description:
    'A resource with DeletionPolicy or UpdateReplacePolicy Retain has no fixed name: CloudFormation generates it, or it derives from AWS::StackId.',
  documentation:
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html',
  check(set) {
    const findings: Finding[] = [];
    for (const ref of set.resources()) {
      const { DeletionPolicy, UpdateReplacePolicy } = ref.resource;
      const policy = [DeletionPolicy, UpdateReplacePolicy].find(
        (p) => p !== undefined && RETAINING.includes(p),
      );
      const nameProperty = RESOURCE_TYPES[ref.resource.Type]?.nameProperty;
      const name = nameProperty ? ref.resource.Properties?.[nameProperty] : undefined;
      if (!policy || name === undefined) continue;
      const resolved = set.resolveString(ref.stack, name);
      if (resolved.includes(UNKNOWN) || isFreshPerCreation(set, resolved)) continue;
      findings.push(
        finding(
          ref,
          `Properties/${nameProperty}`,
          `${ref.resource.Type} is kept on delete (${DeletionPolicy === policy ? 'DeletionPolicy' : 'UpdateReplacePolicy'} ${policy}) under the fixed ${nameProperty} "${resolved}": the next deploy after a destroy fails with "already exists"`,
        ),
      );
    }
    return findings;
  },
};

/**
 * Whether a name contains a value CloudFormation makes anew with each stack creation: the unique part
 * of `AWS::StackId`, or the generated name or id of a resource that is deleted with the stack (a
 * REST API's id, a bucket without a BucketName).
 */
function isFreshPerCreation(set: TemplateSet, name: string): boolean {
  if (name.includes('«uuid!')) return true;
  return [...name.matchAll(/«(?:name|ref|att)!([^!»]+)!([^!».]+)[^»]*»/g)].some(
    ([, stackName, logicalId]) => {
      const source = set.resource(stackName, logicalId);
      return source !== undefined && !RETAINING.includes(source.resource.DeletionPolicy ?? 'Delete');
    },
  );
}
