import { z } from 'zod';
import type { FeatureDefinition } from './feature-group';

export type FeatureType = FeatureDefinition['type'];

/**
 * Feature names Feature Store accepts: an alphanumeric first character, then alphanumerics,
 * hyphens and underscores, at most 64 characters; three names are reserved for its own columns
 * (FeatureDefinitions and RecordIdentifierFeatureName,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateFeatureGroup.html).
 */
const FEATURE_NAME_PATTERN = /^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$/;
const RESERVED_FEATURE_NAMES = ['is_deleted', 'write_time', 'api_invocation_time'];

/**
 * The Feature Store type of each field of a record schema, from the JSON type zod gives the field:
 * a string is `String`, an integer `Integral`, any other number `Fractional`. Throws once, naming
 * every field that has no such type (booleans, objects, arrays, unions) or no valid feature name.
 */
export function featureTypes(schema: z.ZodObject): Readonly<Record<string, FeatureType>> {
  const json = z.toJSONSchema(schema, { target: 'draft-04', io: 'input' }) as {
    properties?: Record<string, { type?: unknown }>;
  };
  const types: Record<string, FeatureType> = {};
  const problems: string[] = [];
  for (const [name, property] of Object.entries(json.properties ?? {})) {
    if (!FEATURE_NAME_PATTERN.test(name) || RESERVED_FEATURE_NAMES.includes(name)) {
      problems.push(`${name}: not a feature name Feature Store accepts`);
    }
    const type = JSON_TYPE_TO_FEATURE_TYPE[String(property.type)];
    if (type) types[name] = type;
    else problems.push(`${name}: a ${JSON.stringify(property.type ?? 'union')} has no Feature Store type`);
  }
  if (Object.keys(json.properties ?? {}).length === 0) problems.push('the schema has no fields');
  if (problems.length > 0) throw new Error(`invalid feature schema: ${problems.join('; ')}`);
  return types;
}

const JSON_TYPE_TO_FEATURE_TYPE: Readonly<Record<string, FeatureType>> = {
  string: 'String',
  integer: 'Integral',
  number: 'Fractional',
};

/** The feature definitions of a group whose records `schema` describes, in the schema's field order. */
export function featureDefinitions(schema: z.ZodObject): FeatureDefinition[] {
  return Object.entries(featureTypes(schema)).map(([name, type]) => ({ name, type }));
}
