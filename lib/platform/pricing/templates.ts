/**
 * The synthesized CloudFormation templates of one app, as the cost models read them: every
 * resource with its stack, logical ID, construct path and properties, and the few intrinsic
 * functions a model needs to follow (`Ref` and `Fn::GetAtt` to another resource, `Fn::Join` of a
 * state machine definition).
 */

/** One stack's template, as `cdk synth` writes it (`<stack>.template.json`). */
export interface StackTemplate {
  /** The stack's name, e.g. `FeedRanking-sandbox-Network`. */
  readonly name: string;
  readonly template: CfnTemplate;
  /**
   * Construct paths inside the stack by logical ID, when the app was built in-process; otherwise
   * each resource's `aws:cdk:path` metadata is used, and the logical ID when there is none.
   */
  readonly paths?: ReadonlyMap<string, string>;
}

export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

export interface TemplateResource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** The construct path without the stack's name, e.g. `Network/SageMakerRuntime/Resource`. */
  readonly path: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

export class AppTemplates {
  readonly resources: readonly TemplateResource[];
  private readonly byKey = new Map<string, TemplateResource>();

  constructor(readonly stacks: readonly StackTemplate[]) {
    this.resources = stacks.flatMap((stack) =>
      Object.entries(stack.template.Resources ?? {}).map(([logicalId, resource]) => {
        const metadataPath = resource.Metadata?.['aws:cdk:path'];
        const fullPath =
          stack.paths?.get(logicalId) ?? (typeof metadataPath === 'string' ? metadataPath : logicalId);
        const path = fullPath.startsWith(`${stack.name}/`) ? fullPath.slice(stack.name.length + 1) : fullPath;
        return {
          stack: stack.name,
          logicalId,
          type: resource.Type,
          path,
          properties: resource.Properties ?? {},
        };
      }),
    );
    for (const resource of this.resources)
      this.byKey.set(`${resource.stack}/${resource.logicalId}`, resource);
  }

  /** The resource of `stack` with that logical ID. */
  get(stack: string, logicalId: string): TemplateResource | undefined {
    return this.byKey.get(`${stack}/${logicalId}`);
  }

  /** The resource `value` points at with `Ref` or `Fn::GetAtt`, in the same stack. */
  target(from: TemplateResource, value: unknown): TemplateResource | undefined {
    const id = referencedId(value);
    return id === undefined ? undefined : this.get(from.stack, id);
  }

  /** The resources of `type` in the same stack as `from` whose property `key` points at `from`. */
  referrers(from: TemplateResource, type: string, key: string): TemplateResource[] {
    return this.resources.filter(
      (r) => r.stack === from.stack && r.type === type && referencedId(r.properties[key]) === from.logicalId,
    );
  }
}

/** The logical ID that `{ Ref: id }` or `{ 'Fn::GetAtt': [id, attribute] }` names. */
export function referencedId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === 'string') return object.Ref;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/**
 * A string property with its intrinsic functions flattened: `Fn::Join` joined, anything else that is
 * not a plain string replaced by `placeholder`. For reading a state machine's definition, whose
 * ARNs are joined from references; the placeholder holds no quote, so JSON stays parseable.
 */
export function flattenString(value: unknown, placeholder = '<token>'): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const join = (value as Record<string, unknown>)['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map((part: unknown) => flattenString(part, placeholder)).join(join[0]);
    }
    const sub = (value as Record<string, unknown>)['Fn::Sub'];
    if (typeof sub === 'string') return sub.replace(/\$\{[^}]*\}/g, placeholder);
    if (Array.isArray(sub) && typeof sub[0] === 'string') return sub[0].replace(/\$\{[^}]*\}/g, placeholder);
  }
  return placeholder;
}

/** A number property, or undefined when it is missing or an intrinsic function. */
export function numberProperty(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** An object property, or an empty object. */
export function objectProperty(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** An array property, or an empty array. */
export function arrayProperty(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
