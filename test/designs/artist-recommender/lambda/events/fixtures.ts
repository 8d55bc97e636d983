import {
  EVENT_TYPES,
  type InteractionEvent,
} from '../../../../../lib/designs/artist-recommender/contracts/events';

/** Valid events for the ingestion and transform tests; `now` is after every `ts`. */
export const NOW = Date.parse('2026-03-01T12:00:00Z');

/**
 * Event `n` of a valid stream, already in the form the contract stores (lower-case enumerations,
 * both id lists, a UTC timestamp), so validating it returns it unchanged. With `overrides`, any
 * field may be replaced or removed (`undefined`) by any value, valid or not, and others added.
 */
export function validEvent(n: number): InteractionEvent;
export function validEvent(n: number, overrides: Record<string, unknown>): Record<string, unknown>;
export function validEvent(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const event: InteractionEvent = {
    event_id: `evt-${n}`,
    user_id: `user-${n % 7}`,
    item_id: `item-${n % 11}`,
    request_id: `req-${Math.floor(n / 4)}`,
    variant: 'champion',
    event_type: EVENT_TYPES[n % EVENT_TYPES.length],
    item_type: n % 3 === 0 ? 'song' : 'artist',
    artist_ids: n % 3 === 0 ? [`artist-${n % 5}`] : [],
    song_ids: [],
    ts: new Date(NOW - 60_000 * (n + 1)).toISOString(),
  };
  return { ...event, ...overrides };
}
