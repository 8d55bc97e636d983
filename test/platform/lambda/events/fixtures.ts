import { z } from 'zod';
import { defineEventContract } from '../../../../lambda/platform/events/contract';
import {
  foldedEnum,
  Identifier,
  identifierList,
  IsoTimestamp,
} from '../../../../lambda/platform/events/fields';

/**
 * Contracts of a made-up design, written with the platform's rules only: a sensor reading (one
 * kind of event) and door events (two kinds told apart by `kind`).
 */
export const NOW = Date.parse('2026-03-01T12:00:00Z');

export const Reading = z.object({
  reading_id: Identifier,
  unit: foldedEnum(['celsius', 'kelvin'] as const, 'unknown_unit'),
  sources: identifierList(3),
  taken_at: IsoTimestamp,
});
export type Reading = z.infer<typeof Reading>;

export const READINGS = defineEventContract({
  schema: Reading,
  idField: 'reading_id',
  timestampField: 'taken_at',
});

export const DoorOpened = z.object({
  id: Identifier,
  kind: z.literal('opened'),
  door: Identifier,
  at: IsoTimestamp,
});
export const DoorClosed = z.object({ id: Identifier, kind: z.literal('closed'), at: IsoTimestamp });
export const DoorEvent = z.discriminatedUnion('kind', [DoorOpened, DoorClosed]);

export const DOORS = defineEventContract({ schema: DoorEvent, idField: 'id', timestampField: 'at' });

/** Reading `n`, in the stored form: validating it returns it unchanged. */
export function reading(n: number): Reading;
export function reading(n: number, overrides: Record<string, unknown>): Record<string, unknown>;
export function reading(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const value: Reading = {
    reading_id: `r-${n}`,
    unit: n % 2 === 0 ? 'celsius' : 'kelvin',
    sources: n % 3 === 0 ? [`s-${n % 5}`] : [],
    taken_at: new Date(NOW - 60_000 * (n + 1)).toISOString(),
  };
  return { ...value, ...overrides };
}

/** Values that break every rule of some field. */
export const WEIRD: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\ufffd',
  '💥',
  [],
  {},
  [null],
  ['a', 'a', 'b', 'c', 'd'],
  'constructor',
  '__proto__',
  'x'.repeat(300),
  '2026-13-45T99:99:99Z',
  '2026-02-28T10:00:00+01:00',
  ' KELVIN ',
  'opened',
];

/** A copy of `base` with one to three fields replaced by a WEIRD value or removed. */
export function mutated(base: Record<string, unknown>, random: () => number): Record<string, unknown> {
  const event = { ...base };
  const fields = Object.keys(event);
  for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
    const field = fields[Math.floor(random() * fields.length)];
    if (random() < 0.3) delete event[field];
    else event[field] = WEIRD[Math.floor(random() * WEIRD.length)];
  }
  return event;
}
