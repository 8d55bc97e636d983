import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** A wildcard that is acceptable in this scope, and why. */
export interface AcceptedWildcard {
  /** Matches a cdk-nag IAM5 finding, e.g. `Action::s3:GetObject*` or `Resource::arn.../models/*`. */
  readonly finding: RegExp;
  readonly reason: string;
}

/** The wildcards CDK's own `grant*` helpers write for S3 and KMS: bounded by the resource they name. */
export const GRANT_HELPER_WILDCARDS: readonly AcceptedWildcard[] = [
  {
    finding: /^Action::s3:(GetObject\*|GetBucket\*|List\*|DeleteObject\*|Abort\*|PutObject\*)$/,
    reason:
      "Action families written by CDK's S3 grant helpers; the statement's resources bound them to one bucket and prefix.",
  },
  {
    finding: /^Action::kms:(GenerateDataKey\*|ReEncrypt\*)$/,
    reason: "Action families written by CDK's KMS grant helpers; the statement names one key.",
  },
];

/**
 * Acknowledges cdk-nag's IAM5 (wildcard) findings on every IAM policy under `scope` that match one of
 * `accepted`, each with its reason; any other wildcard still fails synth. It runs when the app is
 * validated, after cross-stack references are resolved, so the findings it matches are the exact
 * strings cdk-nag reports.
 */
export function acknowledgeGrantWildcards(scope: IConstruct, accepted: readonly AcceptedWildcard[]): void {
  scope.node.addValidation({
    validate: () => {
      for (const policy of scope.node
        .findAll()
        .filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy)) {
        for (const finding of wildcardFindings(policy)) {
          const match = accepted.find((a) => a.finding.test(finding));
          if (match)
            Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: match.reason });
        }
      }
      return [];
    },
  });
}

/** The findings cdk-nag's IAM5 rule reports for a policy: wildcard actions, then wildcard resources. */
function wildcardFindings(policy: iam.CfnPolicy): string[] {
  const document = Stack.of(policy).resolve(policy.policyDocument) as {
    Statement?: Array<Record<string, unknown>>;
  };
  const findings = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asArray(statement.Action)) {
      if (typeof action === 'string' && action.includes('*')) findings.add(`Action::${action}`);
    }
    for (const resource of asArray(statement.Resource).map(flattenCfnReference)) {
      if (resource.includes('*')) findings.add(`Resource::${resource}`);
    }
  }
  return [...findings];
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
