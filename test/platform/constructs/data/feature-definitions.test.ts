import { z } from 'zod';
import {
  featureDefinitions,
  featureTypes,
} from '../../../../lib/platform/constructs/data/feature-definitions';

describe('featureDefinitions', () => {
  test('maps strings to String, integers to Integral and other numbers to Fractional, in field order', () => {
    // GIVEN a record schema with each kind of field
    const schema = z.object({
      record_id: z.string().regex(/^[a-z]+$/),
      level: z.enum(['low', 'high']),
      count: z.int().min(0),
      rate: z.number().min(0).max(1),
      note: z.string().optional(),
      event_time: z.string(),
    });
    // THEN each gets its Feature Store type
    expect(featureDefinitions(schema)).toEqual([
      { name: 'record_id', type: 'String' },
      { name: 'level', type: 'String' },
      { name: 'count', type: 'Integral' },
      { name: 'rate', type: 'Fractional' },
      { name: 'note', type: 'String' },
      { name: 'event_time', type: 'String' },
    ]);
  });

  test('refuses, once, every field without a Feature Store type or name', () => {
    const schema = z.object({
      flag: z.boolean(),
      tags: z.array(z.string()),
      either: z.union([z.string(), z.number()]),
      is_deleted: z.string(),
      'has space': z.string(),
      _leading: z.string(),
      ok: z.string(),
    });
    let message = '';
    try {
      featureTypes(schema);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of ['flag', 'tags', 'either', 'is_deleted', 'has space', '_leading']) {
      expect(message).toContain(`${field}: `);
    }
    expect(message).not.toContain('ok: ');
  });

  test('refuses a schema with no fields', () => {
    expect(() => featureDefinitions(z.object({}))).toThrow(/no fields/);
  });
});
