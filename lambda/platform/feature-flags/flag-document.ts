/**
 * The `AWS.AppConfig.FeatureFlags` document a design's flags are deployed as, and the checks every
 * copy of it passes: at synth (the design's defaults), in the validator AppConfig runs before a
 * deployment, and in the serving function that reads the flags. One schema per design decides all
 * three, so a document the functions would refuse never deploys.
 *
 * The format: `{ version: "1", flags: { <key>: { name, attributes } }, values: { <key>: { enabled,
 * <attribute>: value } } }`; flag and attribute keys match FLAG_KEY_PATTERN, a flag holds at most 25
 * attributes
 * (https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-type-reference-feature-flags.html).
 * The data plane answers the `values` part only, and only `enabled` for a flag that is off, so a
 * design's schema describes `values` and gives an off flag no attributes to rely on.
 */
import { z } from 'zod';
import { describeIssues } from '../shared/lambda-entry';
import { VARIANT_NAME_PATTERN, type WeightedVariant } from '../realtime/variant';

/** Keys of flags and of their attributes (the type reference's `patternProperties`). */
export const FLAG_KEY_PATTERN = /^[a-z][a-zA-Z\d_-]{0,63}$/;

/** Attributes one flag may declare (the type reference's `maxProperties`). */
export const MAX_FLAG_ATTRIBUTES = 25;

/** Constraints AppConfig itself checks on an attribute's value before our validator runs. */
export type AttributeConstraints =
  | {
      readonly type: 'number';
      readonly minimum?: number;
      readonly maximum?: number;
      readonly required?: boolean;
    }
  | { readonly type: 'boolean'; readonly required?: boolean };

export interface FlagDefinition {
  /** What the console shows for the flag. */
  readonly name: string;
  readonly description?: string;
  readonly attributes?: Readonly<Record<string, { readonly constraints: AttributeConstraints }>>;
}

/** A flag's value as the data plane returns it: `enabled`, and its attributes when on. */
export type FlagValue = { readonly enabled: boolean } & Readonly<Record<string, unknown>>;

export interface FeatureFlagDocument {
  readonly version: '1';
  readonly flags: Readonly<Record<string, FlagDefinition>>;
  readonly values: Readonly<Record<string, FlagValue>>;
}

/**
 * A design's flags: the schema of the values the functions read (the same zod schema everywhere),
 * each flag's definition, and the values deployed with the stack, which are also what a function
 * serves with while AppConfig cannot answer.
 */
export interface FlagSet<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly definitions: Readonly<Record<string, FlagDefinition>>;
  readonly defaults: Readonly<Record<string, FlagValue>>;
}

/** The hosted document of a flag set, as AppConfig stores it. */
export function flagDocument(flags: FlagSet): FeatureFlagDocument {
  return { version: '1', flags: flags.definitions, values: flags.defaults };
}

/** Problems of a flag's value or a whole document, each naming the field: `values.abWeights.champion must be ...`. */
export type FlagProblems = readonly string[];

/** Every problem of `values` against `schema`, field by field; none when they parse. */
export function valueProblems(
  schema: z.ZodType,
  values: unknown,
  prefix: readonly string[] = [],
): FlagProblems {
  const parsed = schema.safeParse(values);
  return parsed.success ? [] : describeIssues(parsed.error.issues, prefix).map(bare);
}

/** Drops the event wording describeIssues uses for the root. */
function bare(problem: string): string {
  return problem.replace(/^the event /, 'the document ');
}

/**
 * Every problem of a whole hosted document: its version, its flags' keys and attributes, every
 * value against the set's schema, and a value for every defined flag.
 */
export function documentProblems(schema: z.ZodType, document: unknown): FlagProblems {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return ['the document must be a JSON object'];
  }
  const { version, flags, values } = document as Record<string, unknown>;
  const problems: string[] = [];
  if (version !== '1') problems.push(`version must be "1", got ${JSON.stringify(version)}`);
  const definitions = isObject(flags) ? flags : {};
  if (!isObject(flags)) problems.push('flags must be an object');
  for (const [key, definition] of Object.entries(definitions)) {
    if (!FLAG_KEY_PATTERN.test(key)) problems.push(`flags.${key} must be a key matching ${FLAG_KEY_PATTERN}`);
    const attributes = isObject(definition) && isObject(definition.attributes) ? definition.attributes : {};
    const names = Object.keys(attributes);
    if (names.length > MAX_FLAG_ATTRIBUTES) {
      problems.push(`flags.${key}.attributes must hold at most ${MAX_FLAG_ATTRIBUTES}, got ${names.length}`);
    }
    for (const name of names.filter((n) => !FLAG_KEY_PATTERN.test(n))) {
      problems.push(`flags.${key}.attributes.${name} must be a key matching ${FLAG_KEY_PATTERN}`);
    }
  }
  if (!isObject(values)) {
    problems.push('values must be an object');
    return problems;
  }
  for (const key of Object.keys(values).filter((k) => !(k in definitions))) {
    problems.push(`values.${key} has no definition in flags`);
  }
  return [...problems, ...valueProblems(schema, values, ['values'])];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The message of an object's own issues: absent, not an object, or holding keys it does not know. */
function objectError(reported: z.core.$ZodRawIssue): string {
  if (reported.code === 'unrecognized_keys') {
    return `must not hold ${(reported.keys as string[]).map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return reported.input === undefined ? 'is missing' : 'must be an object';
}

/** A design's flag values: exactly the named flags, each required. */
export function flagValues<T extends z.core.$ZodLooseShape>(flags: T) {
  return z.strictObject(flags, { error: objectError });
}

const enabled = () =>
  z.boolean({ error: (reported) => (reported.input === undefined ? 'is missing' : 'must be a boolean') });

/** A flag with no attributes: on or off. */
export const toggle = () => z.strictObject({ enabled: enabled() }, { error: objectError });

/** A number attribute in [min, max]. */
export const numberIn = (min: number, max: number) =>
  z
    .number({ error: (reported) => (reported.input === undefined ? 'is missing' : 'must be a number') })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/**
 * A flag whose attributes matter only when it is on: off, it may carry them (AppConfig keeps them in
 * the document) but they must still be valid; on, every attribute is required.
 */
export function flagWithAttributes<T extends Record<string, z.ZodType>>(attributes: T) {
  const optional = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]>;
  };
  return z
    .strictObject({ enabled: enabled(), ...optional }, { error: objectError })
    .superRefine((value, ctx) => {
      const record = value as Record<string, unknown>;
      if (record.enabled !== true) return;
      for (const key of Object.keys(attributes)) {
        if (record[key] === undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'is missing (the flag is on)' });
        }
      }
    });
}

/**
 * The A/B weights flag: one number attribute per production variant of the endpoint, each at least
 * 0, at least one above 0 when the flag is on. A variant the endpoint does not have is refused: the
 * runtime API would reject its `TargetVariant` on every request.
 */
export function abWeightsSchema(variantNames: readonly string[]): z.ZodType<FlagValue, FlagValue> {
  const weights = Object.fromEntries(variantNames.map((name) => [name, numberIn(0, 1_000_000)]));
  return flagWithAttributes(weights).superRefine((value, ctx) => {
    if (!value.enabled) return;
    const record = value as Record<string, unknown>;
    const total = variantNames.reduce((sum, name) => {
      const weight = record[name];
      return sum + (typeof weight === 'number' ? weight : 0);
    }, 0);
    if (!(total > 0)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'must give at least one variant a weight above 0' });
    }
  }) as unknown as z.ZodType<FlagValue, FlagValue>;
}

/** The definition of the A/B weights flag, with AppConfig's own constraints on each weight. */
export function abWeightsDefinition(variantNames: readonly string[]): FlagDefinition {
  return {
    name: 'A/B weights',
    description: "Each production variant's share of users; off: the weights the stack deployed",
    attributes: Object.fromEntries(
      variantNames.map((name) => [name, { constraints: { type: 'number', minimum: 0 } as const }]),
    ),
  };
}

/** The A/B weights flag's value for deployed variants. */
export function abWeightsValue(variants: readonly WeightedVariant[]): FlagValue {
  return { enabled: true, ...Object.fromEntries(variants.map((v) => [v.name, v.weight])) };
}

/** Variant names that cannot be attribute keys (AppConfig's pattern is narrower than SageMaker's). */
export function unusableVariantNames(variantNames: readonly string[]): string[] {
  return variantNames.filter((name) => !FLAG_KEY_PATTERN.test(name) || !VARIANT_NAME_PATTERN.test(name));
}

/** The challenger kill switch: on, users split by the weights; off, every user gets the champion. */
export const CHALLENGER_TRAFFIC_DEFINITION: FlagDefinition = {
  name: 'Challenger traffic',
  description: 'Off: every user is served by the champion, whatever the weights say',
};

/**
 * The variants users are split over, given the A/B flags: the champion alone when the challenger
 * is switched off, the flag's weights when that flag is on, else the deployed weights.
 */
export function servingVariants(
  deployed: readonly WeightedVariant[],
  abWeights: FlagValue,
  challengerTraffic: FlagValue,
): readonly WeightedVariant[] {
  const champion = deployed[0];
  if (!challengerTraffic.enabled) return champion ? [{ name: champion.name, weight: 1 }] : deployed;
  if (!abWeights.enabled) return deployed;
  const weighted = deployed.map((v) => {
    const weight = abWeights[v.name];
    return { name: v.name, weight: typeof weight === 'number' && weight >= 0 ? weight : 0 };
  });
  // The schema refuses weights that sum to 0; this guards a flag set built for other variants.
  return weighted.some((v) => v.weight > 0) ? weighted : deployed;
}
