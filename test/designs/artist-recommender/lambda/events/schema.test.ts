import {
  findRepeatedKeys,
  identifierProblem,
  parseIsoTimestamp,
  repeatedEventField,
  validateEvent,
} from '../../../../../lambda/artist-recommender/events/schema';
import { NOW, validEvent } from './fixtures';

const options = { now: NOW };

describe('validateEvent', () => {
  it('keeps ids exactly as sent, folds enums and converts timestamps to UTC', () => {
    const result = validateEvent(
      validEvent(1, {
        user_id: 'User.42',
        event_type: ' CLICK ',
        item_type: 'Artist',
        item_id: "Guns N' Roses!",
        artist_ids: ['A-1', 'a-1', 'A-1', 'b_2'],
        ts: '2026-03-01T13:30:00.123456+02:00',
      }),
      options,
    );
    expect(result).toEqual({
      ok: true,
      event: expect.objectContaining({
        user_id: 'User.42',
        event_type: 'click',
        item_type: 'artist',
        item_id: "Guns N' Roses!",
        artist_ids: ['A-1', 'a-1', 'b_2'],
        song_ids: [],
        ts: '2026-03-01T11:30:00.123Z',
      }),
    });
  });

  // Each pair used to fold into one id, and the ETL then dropped all but the first as duplicates.
  const LOOK_ALIKES = [
    'EVT-1',
    'evt-1',
    'Evt-1',
    'evt.1',
    'evt_1',
    'evt1',
    'evt 1',
    'evt-1!',
    '\uff25\uff36\uff34-1', // fullwidth EVT
    '\u0435vt-1', // Cyrillic e
    'evt\u20101', // hyphen U+2010
    'evt-\uff11', // fullwidth 1
    'evt-\u00b9', // superscript 1
    '\u00e9vt-1', // e-acute, composed
    'e\u0301vt-1', // e-acute, decomposed
    'evt\u200b-1', // zero-width space
    '\u2160vt', // Roman numeral one
    'Ivt',
  ];

  it.each(['event_id', 'user_id', 'item_id', 'request_id', 'variant'])(
    'keeps %s values that differ only in case, punctuation or look-alike characters distinct',
    (field) => {
      const stored = LOOK_ALIKES.map((id) => {
        const result = validateEvent(validEvent(1, { [field]: id }), options);
        if (!result.ok) throw new Error(`${JSON.stringify(id)} was rejected: ${result.message}`);
        return (result.event as unknown as Record<string, unknown>)[field];
      });
      expect(stored).toEqual(LOOK_ALIKES);
      expect(new Set(stored).size).toBe(LOOK_ALIKES.length);
    },
  );

  it('keeps linked ids that differ only in case, punctuation or look-alike characters distinct', () => {
    const result = validateEvent(validEvent(1, { artist_ids: LOOK_ALIKES, song_ids: LOOK_ALIKES }), options);
    expect(result).toMatchObject({ ok: true, event: { artist_ids: LOOK_ALIKES, song_ids: LOOK_ALIKES } });
  });

  it.each([
    ['', /is empty/],
    ['evt\u00001', /NUL character \(U\+0000\) at index 3/],
    ['\u0000', /NUL/],
    ['evt\u001b1', /control character \(U\+001B\)/],
    ['evt\t1', /control character \(U\+0009\)/],
    ['evt\n1', /control character \(U\+000A\)/],
    ['evt\u007f', /control character \(U\+007F\)/],
    ['evt\u0085', /control character \(U\+0085\)/],
    ['evt\ufffd1', /U\+FFFD at index 3, the mark a decoder leaves for bytes that were not UTF-8/],
    ['evt\ud8001', /lone surrogate \(U\+D800\)/],
    ['evt\udc00', /lone surrogate \(U\+DC00\)/],
    ['\udc00\ud800', /lone surrogate \(U\+DC00\)/],
    [' evt-1', /starts or ends with whitespace/],
    ['evt-1 ', /starts or ends with whitespace/],
    ['\u00a0evt-1', /starts or ends with whitespace/],
    ['evt-1\u3000', /starts or ends with whitespace/],
    ['???', /has no letter or digit/],
    ['x'.repeat(129), /longer than 128 characters/],
    ['\u00e9'.repeat(129), /longer than 128 characters/],
    ['\u{20000}'.repeat(129), /longer than 128 characters/],
  ])('rejects the id %j with a reason instead of altering it', (id, message) => {
    for (const field of ['event_id', 'user_id', 'item_id', 'request_id', 'variant']) {
      expect(validateEvent(validEvent(1, { [field]: id }), options)).toEqual({
        ok: false,
        reason: 'invalid_id',
        field,
        message: expect.stringMatching(new RegExp(`^${field} .*${message.source}`)),
      });
    }
    expect(validateEvent(validEvent(1, { song_ids: ['ok', id] }), options)).toMatchObject({
      ok: false,
      reason: 'invalid_id',
      field: 'song_ids[1]',
      message: expect.stringMatching(message),
    });
  });

  it('accepts ids up to 128 characters, astral ones included', () => {
    for (const id of ['x'.repeat(128), '\u{20000}'.repeat(128), '\u00e9'.repeat(128), 'a\u00a0b']) {
      expect(validateEvent(validEvent(1, { event_id: id }), options)).toMatchObject({
        ok: true,
        event: { event_id: id },
      });
    }
  });

  it.each([
    [{ event_id: undefined }, 'missing_field', 'event_id'],
    [{ user_id: 42 }, 'wrong_type', 'user_id'],
    [{ item_id: '!!!' }, 'invalid_id', 'item_id'],
    [{ event_type: 'c.lick' }, 'unknown_event_type', 'event_type'],
    [{ event_type: '\uff43lick' }, 'unknown_event_type', 'event_type'],
    [{ item_type: 'x'.repeat(100) }, 'unknown_item_type', 'item_type'],
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

  it('identifierProblem names the problem and never needs to change the value', () => {
    expect(identifierProblem('e7-2026.03.01:9')).toBeUndefined();
    expect(identifierProblem('Beyonc\u00e9!')).toBeUndefined();
    expect(identifierProblem('\u5742\u672c\u9f8d\u4e00')).toBeUndefined();
    expect(identifierProblem('a\u0000')).toMatch(/NUL/);
  });
});

describe('findRepeatedKeys', () => {
  const names = new Set(['a', 'events']);

  it('names each repeated key with the path of its object, escaped spellings included', () => {
    const text = String.raw`{"events":[{"a":1,"b":[{"a":2}],"a":3},{"a":{"a":4,"\u0061":5}}],"a":"\"a\":","a":6}`;
    expect(findRepeatedKeys(text, names)).toEqual([
      { path: ['events', 0], key: 'a' },
      { path: ['events', 1, 'a'], key: 'a' },
      { path: [], key: 'a' },
    ]);
  });

  it('does not take keys inside strings, values or keys it was not asked about for repeats', () => {
    const text = '{"a":"a","x":"\\"a\\":1,\\"a\\":2","b":1,"b":2,"list":["a","a"],"o":{"a":1}}';
    expect(findRepeatedKeys(text, names)).toEqual([]);
    expect(
      repeatedEventField('{"variant":"event_id","event_id":"e1"}', { variant: 'event_id', event_id: 'e1' }),
    ).toBeUndefined();
    expect(repeatedEventField('{"event_id":"e1","ts":"x","ts":"y"}', { event_id: 'e1', ts: 'y' })).toBe('ts');
  });
});
