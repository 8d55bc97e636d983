import { z } from 'zod';
import { toApiGatewaySchema } from '../../../../lib/platform/constructs/serving/request-model';
import { draft4Validator, renderedModelSchema } from '../../../support/draft4';

const Candidate = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(8)
    .regex(/^[a-z0-9]+$/),
  weight: z.number().gt(0).lt(1),
  kind: z.literal('item'),
});
const Recursive: z.ZodType = z.object({
  get child() {
    return Recursive.optional();
  },
});
const Body = z.strictObject({
  records: z.array(Candidate).min(1).max(3),
  mode: z.enum(['fast', 'full']).optional(),
  rank: z.int().min(0).max(9).optional(),
  note: z.string().nullable().optional(),
  extra: z.object({ free: z.string() }).optional(),
});
const valid = {
  records: [{ id: 'a1', weight: 0.5, kind: 'item' }],
  mode: 'fast',
  rank: 3,
  note: null,
  extra: { free: 'x', more: 1 },
};

describe('toApiGatewaySchema', () => {
  const schema = toApiGatewaySchema(Body);
  const rendered = renderedModelSchema(schema);
  const validate = draft4Validator(rendered);

  test('renders a draft 4 model: $schema from CDK, strict objects closed, plain objects open', () => {
    expect(rendered.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(rendered.additionalProperties).toBe(false);
    const properties = rendered.properties as Record<string, Record<string, unknown>>;
    expect(properties.extra.additionalProperties).toBeUndefined();
    const item = (properties.records.items as Record<string, Record<string, Record<string, unknown>>>)
      .properties;
    // A literal (draft 6 `const`) as a one-value enum; exclusive bounds as draft 4 flags.
    expect(item.kind).toEqual({ type: 'string', enum: ['item'] });
    expect(item.weight).toMatchObject({
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 1,
      exclusiveMaximum: true,
    });
    expect(JSON.stringify(rendered)).not.toMatch(/"const"|"\$ref"|"definitions"/);
  });

  test('accepts what zod accepts', () => {
    expect(Body.safeParse(valid).success).toBe(true);
    expect(validate(valid)).toBe(true);
    expect(validate({ records: [{ id: 'z', weight: 0.999, kind: 'item' }] })).toBe(true);
  });

  test.each<[string, unknown]>([
    ['an unknown top-level key', { ...valid, other: 1 }],
    ['an unknown key in an item', { records: [{ id: 'a', weight: 0.5, kind: 'item', x: 1 }] }],
    ['no records', { records: [] }],
    ['too many records', { records: Array(4).fill(valid.records[0]) }],
    ['a missing field', { records: [{ id: 'a', weight: 0.5 }] }],
    ['an id breaking its pattern', { records: [{ id: 'A-1', weight: 0.5, kind: 'item' }] }],
    ['an id too long', { records: [{ id: 'abcdefghi', weight: 0.5, kind: 'item' }] }],
    ['a weight on its exclusive bound', { records: [{ id: 'a', weight: 0, kind: 'item' }] }],
    ['another literal', { records: [{ id: 'a', weight: 0.5, kind: 'other' }] }],
    ['an enum outside its values', { ...valid, mode: 'slow' }],
    ['a non-integer rank', { ...valid, rank: 1.5 }],
    ['a rank out of range', { ...valid, rank: 10 }],
    ['a string where a number goes', { ...valid, rank: '3' }],
    ['a record that is not an object', { records: ['a'] }],
    ['not an object', []],
  ])('rejects %s, as zod does', (_name, value) => {
    expect(Body.safeParse(value).success).toBe(false);
    expect(validate(value)).toBe(false);
  });

  test('drops annotations and formats draft 4 does not define, keeping the pattern that checks them', () => {
    const rendered = renderedModelSchema(
      toApiGatewaySchema(z.strictObject({ token: z.uuid().meta({ examples: ['x'], $comment: 'c' }) })),
    );
    const token = (rendered.properties as Record<string, Record<string, unknown>>).token;
    expect(token.format).toBeUndefined();
    expect(token.examples).toBeUndefined();
    expect(token.$comment).toBeUndefined();
    expect(typeof token.pattern).toBe('string');
    const validate = draft4Validator(rendered);
    expect(validate({ token: '9b2f4c1e-6d3a-4f5b-8c7d-1e2f3a4b5c6d' })).toBe(true);
    expect(validate({ token: 'not-a-uuid' })).toBe(false);
  });

  test.each<[string, z.ZodType, RegExp]>([
    ['a recursive schema', Recursive, /cycle|recurs|circular/i],
    ['a set, which has no JSON form', z.set(z.string()), /set|unrepresentable|cannot/i],
    [
      'a keyword of a later draft',
      z.strictObject({ tags: z.array(z.string()).meta({ contains: { type: 'string' } }) }),
      /#\/properties\/tags\/contains: "contains" cannot be expressed/,
    ],
  ])('refuses %s', (_name, schema, message) => {
    expect(() => toApiGatewaySchema(schema)).toThrow(message);
  });
});
