import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';

/**
 * Keywords of JSON Schema draft 4, the version API Gateway models are written in
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings-models.html), that
 * `apigateway.JsonSchema` carries. Anything else zod emits is converted or dropped below, or refused.
 */
const DRAFT_4_KEYWORDS = new Set([
  'type',
  'title',
  'description',
  'enum',
  'default',
  'format',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'items',
  'additionalItems',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'dependencies',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);

/** Annotations of later drafts that validate nothing: dropped. */
const DROPPED_ANNOTATIONS = new Set([
  '$comment',
  'examples',
  'id',
  '$id',
  'readOnly',
  'writeOnly',
  'deprecated',
]);

/**
 * Formats draft 4 defines. zod names others (`uuid`, `cuid`, ...) and always adds the `pattern` that
 * checks them, so an unknown format is dropped rather than left for a validator to guess at.
 */
const DRAFT_4_FORMATS = new Set(['date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uri']);

/** Keywords whose value maps names to schemas (the names are data, not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);
/** Keywords whose value is one schema or a list of them. */
const SCHEMA_VALUES = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'not',
  'allOf',
  'anyOf',
  'oneOf',
]);

/**
 * The API Gateway model of a zod schema: what a client may send, as JSON Schema draft 4. It is
 * derived from the schema the function parses with, so the gateway refuses early what the function
 * would refuse anyway, and never refuses what the function takes. `io: 'input'` describes the body as
 * sent (a strict object refuses unknown keys with `additionalProperties: false`; a plain one allows
 * them, since the function strips them). A schema draft 4 cannot express (recursion, `contains`,
 * `propertyNames`, dependent schemas of later drafts) throws, naming the keyword and its path.
 */
export function toApiGatewaySchema(schema: z.ZodType): apigateway.JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-04',
    io: 'input',
    cycles: 'throw',
    reused: 'inline',
    unrepresentable: 'throw',
  }) as Record<string, unknown>;
  // The version is the model's `schema`, which CDK writes out as `$schema`.
  delete json.$schema;
  return { schema: apigateway.JsonSchemaVersion.DRAFT4, ...convert(json, '#') } as apigateway.JsonSchema;
}

function convert(node: Record<string, unknown>, at: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const where = `${at}/${key}`;
    if (DROPPED_ANNOTATIONS.has(key)) continue;
    if (key === 'const') {
      out.enum = [value];
    } else if (key === 'format') {
      if (DRAFT_4_FORMATS.has(String(value))) out.format = value;
    } else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'number') {
      // Draft 6 form (a bound) to draft 4 form (a flag on minimum/maximum).
      out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      out[key] = true;
    } else if (!DRAFT_4_KEYWORDS.has(key)) {
      throw new Error(`${where}: "${key}" cannot be expressed in an API Gateway model (JSON Schema draft 4)`);
    } else if (SCHEMA_MAPS.has(key)) {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([name, child]) => [
          name,
          convert(child, `${where}/${name}`),
        ]),
      );
    } else if (SCHEMA_VALUES.has(key) && typeof value === 'object' && value !== null) {
      out[key] = Array.isArray(value)
        ? value.map((child, i) => convert(child as Record<string, unknown>, `${where}/${i}`))
        : convert(value as Record<string, unknown>, where);
    } else {
      out[key] = value;
    }
  }
  return out;
}
