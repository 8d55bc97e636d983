import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import {
  actionMatches,
  allPolicyStatements,
  type ResolvedStatement,
} from '../../../lib/platform/rules/core/iam';
import type { TemplateSet } from '../../../lib/platform/rules/core/templates';
import type { AcceptedWildcard } from '../../../lib/platform/nag/acknowledge-grant-wildcards';
import { NO_RESOURCE_LEVEL_ACTIONS } from './actions';

/** A wildcard resource no accepted entry and no resource-less action accounts for. */
export interface UnaccountedWildcard {
  readonly statement: ResolvedStatement;
  /** The resource as cdk-nag's IAM5 finding spells it: `Resource::<flattened ARN>`. */
  readonly finding: string;
  /** For `Resource: "*"`: the actions of the statement that do support resource-level permissions. */
  readonly actions: readonly string[];
}

/**
 * Every wildcard resource of every customer policy of the app must be accounted for: `"*"` only for
 * actions that support no resource-level permission (`NO_RESOURCE_LEVEL_ACTIONS`); any other
 * wildcard by an entry of the accepted list (lib/nag/blueprint-wildcards.ts), matched as cdk-nag
 * matches its IAM5 findings.
 */
export function unaccountedWildcards(
  set: TemplateSet,
  accepted: readonly AcceptedWildcard[],
): UnaccountedWildcard[] {
  const unaccounted: UnaccountedWildcard[] = [];
  for (const statement of allPolicyStatements(set)) {
    if (statement.effect !== 'Allow') continue;
    statement.rawResources.forEach((raw) => {
      const flat = flattenCfnReference(raw);
      if (!flat.includes('*')) return;
      const finding = `Resource::${flat}`;
      if (flat === '*') {
        const actions = statement.actions.filter(
          (a) => !NO_RESOURCE_LEVEL_ACTIONS.some((n) => actionMatches(a, n) && !a.includes('*')),
        );
        if (actions.length > 0 && !accepted.some((w) => w.finding.test(finding))) {
          unaccounted.push({ statement, finding, actions });
        }
        return;
      }
      if (!accepted.some((w) => w.finding.test(finding)))
        unaccounted.push({ statement, finding, actions: [] });
    });
  }
  return unaccounted;
}
