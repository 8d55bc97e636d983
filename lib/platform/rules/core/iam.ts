import { asArray, UNKNOWN, type ResourceRef, type TemplateSet } from './templates';

/** An IAM policy statement with its resources resolved (see `TemplateSet.resolve`). */
export interface ResolvedStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  /** Resolved ARNs or ARN patterns; `UNKNOWN` where a resource could not be resolved. */
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  /** The Resource element as the template writes it. */
  readonly rawResources: readonly unknown[];
  readonly hasCondition: boolean;
  /** The policy resource (or role, for an inline policy) the statement is written in. */
  readonly source: ResourceRef;
  /** Where in that resource, e.g. `Properties/PolicyDocument/Statement/2`. */
  readonly location: string;
}

// Pattern tokens: a literal character, or a wildcard that matches any run of characters ('*' in
// IAM), a run without ':' or '/' (one ARN segment), or exactly one character ('?' in IAM).
const ANY = '\u0001';
const SEGMENT = '\u0002';
const ONE = '\u0003';

/** An IAM resource pattern (`*` and `?` are wildcards) as pattern tokens. */
export function iamPattern(resource: string): string {
  return resource
    .split(UNKNOWN)
    .map((part) => part.replace(/\*/g, ANY).replace(/\?/g, ONE))
    .join(ANY);
}

/**
 * A resource the code reaches, as a pattern: `UNKNOWN` parts (a name known only at run time) match
 * anything; `{segment}` stands for one ARN segment of any value, e.g. `arn:{segment}:s3:::{segment}`
 * is "some bucket".
 */
export function requiredPattern(resource: string): string {
  return resource.split(UNKNOWN).join(ANY).split('{segment}').join(SEGMENT).split('{any}').join(ANY);
}

/**
 * Whether some string matches both patterns: a policy's resource pattern and a required one. Each
 * side is a sequence of literal characters and wildcards; a dynamic programme over both positions.
 */
export function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const star = (c: string) => c === ANY || c === SEGMENT;
  const accepts = (c: string, ch: string) =>
    c === ANY || c === ONE ? true : c === SEGMENT ? ch !== ':' && ch !== '/' : c === ch;
  const meet = (x: string, y: string): boolean => {
    const xWild = x === ANY || x === SEGMENT || x === ONE;
    const yWild = y === ANY || y === SEGMENT || y === ONE;
    if (!xWild && !yWild) return x === y;
    if (!xWild) return accepts(y, x);
    if (!yWild) return accepts(x, y);
    return true; // two wildcards share some character other than ':' and '/'
  };
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result = false;
    if (i === a.length && j === b.length) result = true;
    else {
      if (i < a.length && star(a[i]) && go(i + 1, j)) result = true;
      else if (j < b.length && star(b[j]) && go(i, j + 1)) result = true;
      else if (i < a.length && j < b.length && meet(a[i], b[j]) && !(star(a[i]) && star(b[j]))) {
        result = go(star(a[i]) ? i : i + 1, star(b[j]) ? j : j + 1);
      }
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** Whether an IAM action pattern (`s3:Get*`, `*`) covers an action; IAM compares them case-blind. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    'i',
  );
  return regex.test(action);
}

/** The IAM role a resource runs as (a function's `Role`, a state machine's `RoleArn`). */
export function roleOf(set: TemplateSet, ref: ResourceRef): ResourceRef | undefined {
  const props = ref.resource.Properties ?? {};
  const arn = set.resolve(ref.stack, props.Role ?? props.RoleArn ?? props.ExecutionRoleArn);
  return set.resourceNamedBy(arn, 'AWS::IAM::Role');
}

/**
 * Every statement that applies to a role: its inline policies, and the `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` resources of any stack that attach to it. AWS managed policies are
 * not read.
 */
export function roleStatements(set: TemplateSet, role: ResourceRef): ResolvedStatement[] {
  const roleName = set.physicalName(role);
  const statements: ResolvedStatement[] = [];
  const props = role.resource.Properties ?? {};
  statements.push(...inlineStatements(set, role));
  const managedArns = asArray(set.resolve(role.stack, props.ManagedPolicyArns ?? []));
  for (const policy of set.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
    const attached = asArray(set.resolve(policy.stack, policy.resource.Properties?.Roles ?? [])).includes(
      roleName,
    );
    const managed =
      policy.resource.Type === 'AWS::IAM::ManagedPolicy' &&
      managedArns.includes(`«ref!${policy.stack.stackName}!${policy.logicalId}»`);
    if (attached || managed) statements.push(...policyResourceStatements(set, policy));
  }
  return statements;
}

/** The statements of every customer policy of the app, inline or not, whoever they attach to. */
export function allPolicyStatements(set: TemplateSet): ResolvedStatement[] {
  const statements: ResolvedStatement[] = [];
  for (const role of set.resources('AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group')) {
    statements.push(...inlineStatements(set, role));
  }
  for (const policy of set.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
    statements.push(...policyResourceStatements(set, policy));
  }
  return statements;
}

/** The statements of the inline `Policies` of a role, user or group. */
function inlineStatements(set: TemplateSet, principal: ResourceRef): ResolvedStatement[] {
  return asArray(principal.resource.Properties?.Policies ?? []).flatMap((policy, i) =>
    documentStatements(
      set,
      principal,
      (policy as { PolicyDocument?: unknown })?.PolicyDocument,
      `Properties/Policies/${i}/PolicyDocument`,
    ),
  );
}

/** The statements of an `AWS::IAM::Policy` or `AWS::IAM::ManagedPolicy` resource. */
function policyResourceStatements(set: TemplateSet, policy: ResourceRef): ResolvedStatement[] {
  return documentStatements(
    set,
    policy,
    policy.resource.Properties?.PolicyDocument,
    'Properties/PolicyDocument',
  );
}

function documentStatements(
  set: TemplateSet,
  source: ResourceRef,
  document: unknown,
  at: string,
): ResolvedStatement[] {
  const raw = asArray((document as { Statement?: unknown } | undefined)?.Statement ?? []);
  return raw.map((s, i) => {
    const statement = s as Record<string, unknown>;
    const strings = (value: unknown) =>
      value === undefined ? [] : asArray(value).map((v) => set.resolveString(source.stack, v));
    return {
      effect: statement.Effect === 'Deny' ? 'Deny' : 'Allow',
      actions: strings(statement.Action),
      notActions: strings(statement.NotAction),
      resources: strings(statement.Resource),
      notResources: strings(statement.NotResource),
      rawResources: statement.Resource === undefined ? [] : asArray(statement.Resource),
      hasCondition: statement.Condition !== undefined,
      source,
      location: `${at}/Statement/${i}`,
    };
  });
}

function statementCovers(statement: ResolvedStatement, action: string, resource: string): boolean {
  const actionCovered =
    statement.actions.some((a) => actionMatches(a, action)) ||
    (statement.notActions.length > 0 && !statement.notActions.some((a) => actionMatches(a, action)));
  if (!actionCovered) return false;
  const required = requiredPattern(resource);
  if (statement.notResources.length > 0) {
    return !statement.notResources.some((r) => patternsOverlap(iamPattern(r), required));
  }
  return statement.resources.some((r) => patternsOverlap(iamPattern(r), required));
}

/**
 * Whether the statements allow `action` on a resource matching `resource` (see `requiredPattern`).
 * Conditions are taken as met: the rules ask what a role may do at all, not under which context.
 */
export function allows(statements: readonly ResolvedStatement[], action: string, resource: string): boolean {
  const allowed = statements.some((s) => s.effect === 'Allow' && statementCovers(s, action, resource));
  // A Deny counts only when it surely applies: no condition, every resource.
  const denied = statements.some(
    (s) =>
      s.effect === 'Deny' &&
      !s.hasCondition &&
      s.resources.includes('*') &&
      statementCovers(s, action, resource),
  );
  return allowed && !denied;
}
