/** Valid events for the ingestion and transform tests; `now` is after every `ts`. */
export const NOW = Date.parse('2026-03-01T12:00:00Z');

export function validEvent(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `evt-${n}`,
    user_id: `user-${n % 7}`,
    event_type: ['impression', 'click', 'play', 'like'][n % 4],
    item_type: n % 3 === 0 ? 'song' : 'artist',
    item_id: `item-${n % 11}`,
    artist_ids: n % 3 === 0 ? [`artist-${n % 5}`] : [],
    ts: new Date(NOW - 60_000 * (n + 1)).toISOString(),
    request_id: `req-${Math.floor(n / 4)}`,
    variant: 'champion',
    ...overrides,
  };
}
