import { z } from 'zod';
import {
  defineEventContract,
  fieldPath,
  repeatedFieldRejection,
  validateEvent,
} from '../../../../lambda/platform/events/contract';
import { canonicalTimestampEpoch, Identifier, IsoTimestamp } from '../../../../lambda/platform/events/fields';
import { repeatedTopLevelKey } from '../../../../lambda/platform/events/json-text';
import { seededRandom } from '../../../../scripts/support/seeded-random';
import { DOORS, DoorEvent, mutated, NOW, Reading, READINGS, reading } from './fixtures';

const window = { now: NOW };

describe('validateEvent with a one-kind contract', () => {
  it('returns the stored form: enumerations folded, lists defaulted and deduplicated, UTC time, no extra fields', () => {
    const result = validateEvent(
      READINGS,
      {
        reading_id: 'R.1',
        unit: ' Kelvin ',
        sources: ['a', 'A', 'a'],
        taken_at: '2026-03-01T13:30:00.5+02:00',
        x: 1,
      },
      window,
    );
    expect(result).toEqual({
      ok: true,
      event: { reading_id: 'R.1', unit: 'kelvin', sources: ['a', 'A'], taken_at: '2026-03-01T11:30:00.500Z' },
    });
    expect(validateEvent(READINGS, reading(4, { sources: null }), window)).toMatchObject({
      ok: true,
      event: { sources: [] },
    });
    for (let n = 0; n < 20; n++)
      expect(validateEvent(READINGS, reading(n), window)).toEqual({ ok: true, event: reading(n) });
  });

  it.each([
    [{ reading_id: undefined }, 'missing_field', 'reading_id', 'reading_id is required'],
    [{ reading_id: null }, 'missing_field', 'reading_id', 'reading_id is required'],
    [{ reading_id: 7 }, 'wrong_type', 'reading_id', 'reading_id must be a string'],
    [{ reading_id: ' r' }, 'invalid_id', 'reading_id', 'reading_id starts or ends with whitespace'],
    [
      { reading_id: 'r\u0000' },
      'invalid_id',
      'reading_id',
      'reading_id holds a NUL character (U+0000) at index 1',
    ],
    [{ unit: 'fahrenheit' }, 'unknown_unit', 'unit', 'unit must be one of celsius, kelvin'],
    [{ unit: ['celsius'] }, 'wrong_type', 'unit', 'unit must be a string'],
    [{ sources: 's' }, 'wrong_type', 'sources', 'sources must be an array of strings'],
    [{ sources: ['a', 2] }, 'wrong_type', 'sources[1]', 'sources[1] must be a string'],
    [{ sources: ['a', null] }, 'missing_field', 'sources[1]', 'sources[1] is required'],
    [{ sources: ['a', '???'] }, 'invalid_id', 'sources[1]', 'sources[1] has no letter or digit'],
    // Too long is reported before the entries are read.
    [{ sources: ['a', 'b', 'c', ' bad'] }, 'too_many_ids', 'sources', 'sources holds more than 3 ids'],
    [{ taken_at: 1_700_000_000 }, 'wrong_type', 'taken_at', 'taken_at must be an ISO-8601 string'],
    [
      { taken_at: '2026-02-30T00:00:00Z' },
      'invalid_timestamp',
      'taken_at',
      expect.stringMatching(/^taken_at must be ISO-8601 with a zone/),
    ],
    [{ taken_at: '2026-03-01T12:06:00Z' }, 'future_timestamp', 'taken_at', 'taken_at is in the future'],
    [
      { taken_at: '2025-02-28T11:59:59Z' },
      'ancient_timestamp',
      'taken_at',
      'taken_at is older than the accepted age',
    ],
  ])('refuses %j as %s of %s', (overrides, reason, field, message) => {
    expect(validateEvent(READINGS, reading(1, overrides), window)).toEqual({
      ok: false,
      reason,
      field,
      message,
    });
  });

  it('reports the first problem in the order the schema lists its fields', () => {
    expect(
      validateEvent(READINGS, reading(1, { taken_at: 'x', unit: 'x', reading_id: 1 }), window),
    ).toMatchObject({
      field: 'reading_id',
    });
    expect(validateEvent(READINGS, reading(1, { taken_at: 'x', sources: 'x' }), window)).toMatchObject({
      field: 'sources',
    });
  });

  it('checks the window against the caller clock and limits', () => {
    const late = reading(1, { taken_at: '2026-03-01T12:10:00Z' });
    expect(validateEvent(READINGS, late, window)).toMatchObject({ reason: 'future_timestamp' });
    expect(validateEvent(READINGS, late, { now: NOW, maxFutureSkewMs: 10 * 60_000 })).toMatchObject({
      ok: true,
    });
    const old = reading(1, { taken_at: '2026-02-27T12:00:00Z' });
    expect(validateEvent(READINGS, old, { now: NOW, maxAgeMs: 86_400_000 })).toMatchObject({
      reason: 'ancient_timestamp',
    });
  });

  it.each([null, 1, 'x', [], true])('refuses %j as not an object', (value) => {
    expect(validateEvent(READINGS, value, window)).toEqual({
      ok: false,
      reason: 'not_an_object',
      message: 'an event must be a JSON object',
    });
  });
});

describe('validateEvent with a contract of several kinds', () => {
  const opened = { id: 'e-1', kind: 'opened', door: 'front', at: '2026-03-01T11:00:00Z' };

  it('validates each kind by its own fields', () => {
    expect(validateEvent(DOORS, opened, window)).toEqual({
      ok: true,
      event: { ...opened, at: '2026-03-01T11:00:00.000Z' },
    });
    expect(validateEvent(DOORS, { ...opened, kind: 'closed' }, window)).toEqual({
      ok: true,
      event: { id: 'e-1', kind: 'closed', at: '2026-03-01T11:00:00.000Z' },
    });
    expect(validateEvent(DOORS, { ...opened, door: undefined }, window)).toMatchObject({
      reason: 'missing_field',
      field: 'door',
    });
  });

  it.each([
    [{ kind: 'ajar' }, 'unknown_event_type', 'kind must be one of opened, closed'],
    [{ kind: 'OPENED' }, 'unknown_event_type', 'kind must be one of opened, closed'],
    [{ kind: undefined }, 'missing_field', 'kind is required'],
    [{ kind: null }, 'missing_field', 'kind is required'],
    [{ kind: 1 }, 'wrong_type', 'kind must be a string'],
  ])('names the discriminator when it is %j', (overrides, reason, message) => {
    expect(validateEvent(DOORS, { ...opened, ...overrides }, window)).toEqual({
      ok: false,
      reason,
      field: 'kind',
      message,
    });
  });

  it('knows every field of every kind, for the repeated-key check', () => {
    expect([...DOORS.fields]).toEqual(['id', 'kind', 'door', 'at']);
    expect([...READINGS.fields]).toEqual(['reading_id', 'unit', 'sources', 'taken_at']);
  });
});

describe('defineEventContract', () => {
  it('refuses a contract whose id or timestamp field is missing or of the wrong rule, naming each problem', () => {
    const union = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('a'), id: Identifier, at: IsoTimestamp }),
      z.object({ kind: z.literal('b'), at: z.string() }),
    ]);
    expect(() =>
      defineEventContract({ schema: union, idField: 'id' as never, timestampField: 'at' }),
    ).toThrow('invalid event contract: event kind 1 has no id; at of event kind 1 must be an IsoTimestamp');
  });

  it('compiles its rules: zod takes every one on its fast path', () => {
    expect(() => z.compile(Reading, { strict: true })).not.toThrow();
    expect(() => z.compile(DoorEvent, { strict: true })).not.toThrow();
  });

  it('gives the verdicts of the schema itself, compiled or not, on 3,000 mutated events', () => {
    const random = seededRandom(7);
    for (let n = 0; n < 3000; n++) {
      const input =
        n % 2 === 0
          ? mutated(reading(n), random)
          : mutated({ id: `e-${n}`, kind: 'opened', door: 'd', at: '2026-03-01T11:00:00Z' }, random);
      const contract = n % 2 === 0 ? READINGS : DOORS;
      const compiled = contract.safeParse(input);
      const interpreted = contract.schema.safeParse(input);
      expect(compiled.success).toBe(interpreted.success);
      if (compiled.success && interpreted.success) expect(compiled.data).toEqual(interpreted.data);
      else expect(compiled.error?.issues[0]).toEqual(interpreted.error?.issues[0]);
    }
  });
});

describe('helpers', () => {
  it('writes issue paths as the answers name fields', () => {
    expect(fieldPath([])).toBeUndefined();
    expect(fieldPath(['a'])).toBe('a');
    expect(fieldPath(['a', 3])).toBe('a[3]');
    expect(fieldPath(['a', 'b', 0, 'c'])).toBe('a.b[0].c');
  });

  it('reads canonical timestamps of every year, the first hundred included', () => {
    for (const ts of ['0050-06-01T00:00:00.000Z', '1999-12-31T23:59:59.999Z', '2024-02-29T12:00:00.000Z']) {
      expect(canonicalTimestampEpoch(ts)).toBe(Date.parse(ts));
    }
    expect(canonicalTimestampEpoch('2023-02-29T12:00:00.000Z')).toBeUndefined();
    expect(canonicalTimestampEpoch('2024-02-29T12:00:00Z')).toBeUndefined();
  });

  it('finds a repeated contract field in the text JSON.parse would have dropped it from', () => {
    const text = '{"reading_id":"a","unit":"celsius","reading_id":"b"}';
    expect(repeatedTopLevelKey(text, JSON.parse(text), READINGS.fields)).toBe('reading_id');
    const other = '{"reading_id":"a","x":1,"x":2}';
    expect(repeatedTopLevelKey(other, JSON.parse(other), READINGS.fields)).toBeUndefined();
    expect(repeatedFieldRejection('unit')).toEqual({
      ok: false,
      reason: 'repeated_field',
      field: 'unit',
      message: 'unit appears more than once in the event; which value is meant cannot be told',
    });
  });
});
