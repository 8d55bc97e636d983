import { normaliseId, parseIsoTimestamp, validateEvent } from '../../../lambda/events/schema';
import { NOW, validEvent } from './fixtures';

const options = { now: NOW };

describe('validateEvent', () => {
  it('normalises ids, enums and timestamps', () => {
    const result = validateEvent(
      validEvent(1, {
        user_id: '  User.42 ',
        event_type: ' CLICK ',
        item_type: 'Artist',
        item_id: "Guns N' Roses!",
        artist_ids: ['A-1', 'a-1', ' b_2 '],
        ts: '2026-03-01T13:30:00.123456+02:00',
      }),
      options,
    );
    expect(result).toEqual({
      ok: true,
      event: expect.objectContaining({
        user_id: 'user42',
        event_type: 'click',
        item_type: 'artist',
        item_id: 'gunsnroses',
        artist_ids: ['a-1', 'b_2'],
        song_ids: [],
        ts: '2026-03-01T11:30:00.123Z',
      }),
    });
  });

  it.each([
    [{ event_id: undefined }, 'missing_field', 'event_id'],
    [{ user_id: 42 }, 'wrong_type', 'user_id'],
    [{ item_id: '!!!' }, 'invalid_id', 'item_id'],
    [{ item_id: 'x'.repeat(300) }, 'invalid_id', 'item_id'],
    [{ event_type: 'purchase' }, 'unknown_event_type', 'event_type'],
    [{ item_type: 'album' }, 'unknown_item_type', 'item_type'],
    [{ artist_ids: 'a' }, 'wrong_type', 'artist_ids'],
    [{ song_ids: [1] }, 'wrong_type', 'song_ids[0]'],
    [{ song_ids: Array.from({ length: 101 }, (_, i) => `s${i}`) }, 'too_many_ids', 'song_ids'],
    [{ ts: 1700000000 }, 'wrong_type', 'ts'],
    [{ ts: '2026-03-01 12:00' }, 'invalid_timestamp', 'ts'],
    [{ ts: '2026-02-30T12:00:00Z' }, 'invalid_timestamp', 'ts'],
    [{ ts: '2026-03-01T25:00:00Z' }, 'invalid_timestamp', 'ts'],
    [{ ts: '2026-03-01T12:00:00' }, 'invalid_timestamp', 'ts'],
    [{ ts: '2026-03-01T12:10:00Z' }, 'future_timestamp', 'ts'],
    [{ ts: '2020-01-01T00:00:00Z' }, 'ancient_timestamp', 'ts'],
    [{ request_id: null }, 'missing_field', 'request_id'],
    [{ variant: ['a'] }, 'wrong_type', 'variant'],
  ])('rejects %j as %s', (overrides, reason, field) => {
    expect(validateEvent(validEvent(1, overrides), options)).toMatchObject({ ok: false, reason, field });
  });

  it('checks canonical timestamps on the fast path as strictly as the general one', () => {
    const at = (ts: string) =>
      validateEvent(validEvent(1, { ts }), { now: Date.parse('2025-01-01T00:00:00Z') });
    expect(at('2024-02-29T23:59:59.999Z')).toMatchObject({
      ok: true,
      event: { ts: '2024-02-29T23:59:59.999Z' },
    });
    for (const ts of [
      '2023-02-29T00:00:00.000Z',
      '2024-04-31T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '2024-01-01T00:60:00.000Z',
      '2024-01-01T00:00:60.000Z',
      '2024-0a-01T00:00:00.000Z',
    ]) {
      expect(at(ts)).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
    }
  });

  it('rejects non-objects', () => {
    for (const value of [null, 1, 'x', [], true]) {
      expect(validateEvent(value, options)).toMatchObject({ ok: false, reason: 'not_an_object' });
    }
  });

  it('accepts a small clock skew and ignores unknown fields', () => {
    const result = validateEvent(validEvent(1, { ts: '2026-03-01T12:04:00Z', extra: { a: 1 } }), options);
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.event)).not.toContain('extra');
  });
});

describe('helpers', () => {
  it('parses ISO-8601 variants', () => {
    expect(parseIsoTimestamp('2026-01-02T03:04Z')).toBe(Date.parse('2026-01-02T03:04:00Z'));
    expect(parseIsoTimestamp('2026-01-02t03:04:05,5-0130')).toBe(Date.parse('2026-01-02T04:34:05.500Z'));
    expect(parseIsoTimestamp('2026-01-02T03:04:05+24:00')).toBeUndefined();
    expect(parseIsoTimestamp('yesterday')).toBeUndefined();
  });

  it('normalises ids idempotently', () => {
    for (const raw of ['  Ab.C ', 'Ｆｕｌｌ', 'a b\tc', 'Beyoncé!']) {
      expect(normaliseId(normaliseId(raw))).toBe(normaliseId(raw));
    }
    expect(normaliseId('Beyoncé!')).toBe('beyoncé');
  });
});
