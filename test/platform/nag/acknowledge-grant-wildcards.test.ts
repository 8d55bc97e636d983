import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  acknowledgeGrantWildcards,
  GRANT_HELPER_WILDCARDS,
} from '../../../lib/platform/nag/acknowledge-grant-wildcards';
import { compareFindings } from './nag-findings';

describe('acknowledgeGrantWildcards', () => {
  test("silences exactly the IAM5 findings it matches: S3 grant action families, not the grant's object wildcard", () => {
    // GIVEN a role granted read on one prefix of a bucket
    let bucketId = '';
    const { without, silenced, added } = compareFindings((stack, acknowledge) => {
      const bucket = new s3.Bucket(stack, 'Bucket');
      bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      const role = new iam.Role(stack, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      bucket.grantRead(role, 'prefix/*');
      // WHEN the stack accepts the grant helpers' wildcards, or not
      if (acknowledge) acknowledgeGrantWildcards(stack, GRANT_HELPER_WILDCARDS);
    });
    const policy = 'Small/Role/DefaultPolicy/Resource';
    // THEN the action families go, and the object wildcard, which no entry matches, stays
    expect(silenced).toEqual(
      ['GetBucket*', 'GetObject*', 'List*'].map((a) => `AwsSolutions-IAM5[Action::s3:${a}] @ ${policy}`),
    );
    expect(without).toContain(`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/prefix/*] @ ${policy}`);
    expect(added).toEqual([]);
  });
});
