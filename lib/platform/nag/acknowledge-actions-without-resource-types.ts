import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** The finding cdk-nag's IAM5 rule reports for a policy that allows anything on `"Resource": "*"`. */
export const ANY_RESOURCE_FINDING = 'AwsSolutions-IAM5[Resource::*]';

/** The Service Authorization Reference: each service's actions with the resource types they accept. */
export const SERVICE_AUTHORIZATION_REFERENCE =
  'https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html';

/** Actions a role is allowed on `"Resource": "*"` because AWS defines no resource type for them. */
export interface ActionsWithoutResourceTypes {
  /** Exact IAM actions, `service:Action`, without wildcards. */
  readonly actions: readonly string[];
  /** What the role does with them, in the words a reviewer needs (it leads the acknowledgement's reason). */
  readonly purpose: string;
  /**
   * The page that documents the actions' lack of a resource type.
   * @default - the index of the Service Authorization Reference
   */
  readonly reference?: string;
}

interface Accepted {
  readonly purpose: string;
  readonly reference: string;
}

/** Per role: the accepted actions, lower-cased (IAM action names are case-insensitive). */
const ACCEPTED = new WeakMap<IConstruct, Map<string, Accepted>>();

/**
 * Acknowledges cdk-nag's `AwsSolutions-IAM5[Resource::*]` on the policies of `role` whose `*`
 * statements allow nothing but actions AWS defines no resource type for: for those, IAM accepts only
 * `"Resource": "*"` (each service's page of the Service Authorization Reference lists its actions'
 * resource types). Several calls on one role add up.
 *
 * The acknowledgement is exact, unlike one placed on the role by hand: it is made when the app is
 * validated, on each policy (`AWS::IAM::Policy`, or the role's inline policies) under `role` whose
 * `*` statements allow only accepted actions, and its reason names them. A policy that allows any
 * other action on `*` keeps the finding, and cdk-nag fails synth. Policies attached to the role
 * from elsewhere in the construct tree are not covered.
 */
export function acknowledgeActionsWithoutResourceTypes(
  role: IConstruct,
  accepted: ActionsWithoutResourceTypes,
): void {
  const problems = acceptedProblems(accepted);
  if (problems.length > 0) {
    throw new Error(
      `Invalid actions without resource types for ${role.node.path}:\n  - ${problems.join('\n  - ')}`,
    );
  }
  let byAction = ACCEPTED.get(role);
  if (!byAction) {
    const actions = new Map<string, Accepted>();
    ACCEPTED.set(role, actions);
    role.node.addValidation({
      validate: () => {
        acknowledgeCoveredPolicies(role, actions);
        return [];
      },
    });
    byAction = actions;
  }
  const entry = {
    purpose: accepted.purpose,
    reference: accepted.reference ?? SERVICE_AUTHORIZATION_REFERENCE,
  };
  for (const action of accepted.actions) {
    if (!byAction.has(action.toLowerCase())) byAction.set(action.toLowerCase(), entry);
  }
}

/** Every problem of `accepted`, each naming its field. */
function acceptedProblems(accepted: ActionsWithoutResourceTypes): string[] {
  const problems: string[] = [];
  if (accepted.actions.length === 0) problems.push('actions: at least one');
  for (const action of accepted.actions) {
    if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(action)) {
      problems.push(
        `actions: ${JSON.stringify(action)} is not one exact action (service:Action, no wildcard)`,
      );
    }
  }
  if (accepted.purpose.trim().length < 20) {
    problems.push('purpose: say what the role does with the actions (at least 20 characters)');
  }
  if (accepted.reference !== undefined && !/^https:\/\/docs\.aws\.amazon\.com\//.test(accepted.reference)) {
    problems.push(
      `reference: a page of https://docs.aws.amazon.com/, got ${JSON.stringify(accepted.reference)}`,
    );
  }
  return problems;
}

function acknowledgeCoveredPolicies(role: IConstruct, byAction: ReadonlyMap<string, Accepted>): void {
  for (const resource of role.node.findAll()) {
    const actions = [...actionsOnAnyResource(resource)].sort();
    if (actions.length === 0) continue;
    const entries = actions.map((action) => byAction.get(action.toLowerCase()));
    // An action nobody accepted: the finding stays, and cdk-nag reports it.
    if (entries.some((entry) => entry === undefined)) continue;
    const purposes = [...new Set(entries.map((entry) => entry!.purpose))];
    const references = [...new Set(entries.map((entry) => entry!.reference))];
    Validations.of(resource).acknowledge({
      id: ANY_RESOURCE_FINDING,
      reason: `${actions.join(', ')} accept only "Resource": "*" (${references.join(', ')}): ${purposes.join('; ')}.`,
    });
  }
}

/** The actions that the policy documents of `resource` allow on `*`, as cdk-nag's IAM5 reads them. */
function actionsOnAnyResource(resource: IConstruct): Set<string> {
  const actions = new Set<string>();
  for (const document of policyDocuments(resource)) {
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow' || !asArray(statement.Resource).includes('*')) continue;
      for (const action of asArray(statement.Action)) {
        if (typeof action === 'string') actions.add(action);
      }
    }
  }
  return actions;
}

interface PolicyDocumentJson {
  readonly Statement?: ReadonlyArray<{
    readonly Effect?: string;
    readonly Action?: unknown;
    readonly Resource?: unknown;
  }>;
}

function policyDocuments(resource: IConstruct): PolicyDocumentJson[] {
  if (resource instanceof iam.CfnPolicy || resource instanceof iam.CfnManagedPolicy) {
    return [Stack.of(resource).resolve(resource.policyDocument) as PolicyDocumentJson];
  }
  if (resource instanceof iam.CfnRole) {
    const stack = Stack.of(resource);
    const inline = (stack.resolve(resource.policies) ?? []) as Array<{
      policyDocument?: unknown;
      PolicyDocument?: unknown;
    }>;
    return inline.map(
      (policy) => stack.resolve(policy.PolicyDocument ?? policy.policyDocument) as PolicyDocumentJson,
    );
  }
  return [];
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
