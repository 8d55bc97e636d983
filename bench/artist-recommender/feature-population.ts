/**
 * The synthetic population the feature benchmarks build in SQL, the same rows in PostgreSQL and in
 * the lake: `users` accounts and `events` events over 30 days before 2026-03-01 (taste groups of 8
 * artists, every third event a song, half the events impressions).
 */
import { mkdirSync } from 'node:fs';
import type { ClientBase } from 'pg';
import type { LocalLake } from '../../lambda/artist-recommender/lake/duckdb';

export const POPULATION_END = '2026-03-01T00:00:00Z';

/** Fills `accounts` and `events` (both truncated first). */
export async function populatePostgres(c: ClientBase, events: number, users: number): Promise<void> {
  await c.query('TRUNCATE events, accounts');
  await c.query(
    `INSERT INTO accounts (user_id, date_of_birth, city, state, country)
     SELECT 'u' || i, date '1950-01-01' + (i * 7919 % 20000),
            'city' || (i * 31 % 40), 'state' || (i * 31 % 40 % 8), 'c' || (i * 31 % 40 % 8 % 3)
       FROM generate_series(0, $1 - 1) AS i`,
    [users],
  );
  await c.query(
    `INSERT INTO events (event_id, user_id, event_type, item_type, item_id, artist_ids, ts, request_id, variant)
     SELECT 'e' || i, 'u' || u,
            (ARRAY['impression','impression','impression','click','play','like'])[1 + (i * 13 % 6)],
            CASE WHEN i % 3 = 0 THEN 'song' ELSE 'artist' END,
            CASE WHEN i % 3 = 0 THEN 's' || a || '-' || (i % 10) ELSE 'a' || a END,
            CASE WHEN i % 3 = 0 THEN ARRAY['a' || a] ELSE '{}'::text[] END,
            timestamptz '${POPULATION_END}' - (i % 2592000) * interval '1 second',
            'r' || (i / 5), 'champion'
       FROM (SELECT i, (i * 7 % $2) AS u, ((i * 7 % $2) % 8 + 8 * (i * 11 % 60)) AS a
               FROM generate_series(0, $1 - 1) AS i) s`,
    [events, users],
  );
  await c.query('ANALYZE events; ANALYZE accounts');
}

/** Writes the same events into the lake's `events` table (Parquet, one folder per day). */
export async function populateLake(lake: LocalLake, events: number, users: number): Promise<void> {
  mkdirSync(lake.tableDir('events'), { recursive: true });
  const n = Math.trunc(events);
  const u = Math.trunc(users);
  await lake.run(
    `COPY (
       SELECT 'e' || i AS event_id, 'u' || uid AS user_id,
              (['impression','impression','impression','click','play','like'])[1 + (i * 13 % 6)] AS event_type,
              CASE WHEN i % 3 = 0 THEN 'song' ELSE 'artist' END AS item_type,
              CASE WHEN i % 3 = 0 THEN 's' || a || '-' || (i % 10) ELSE 'a' || a END AS item_id,
              CASE WHEN i % 3 = 0 THEN ['a' || a] ELSE []::VARCHAR[] END AS artist_ids,
              []::VARCHAR[] AS song_ids,
              TIMESTAMP '${POPULATION_END.replace('T', ' ').replace('Z', '')}' - to_seconds(i % 2592000) AS ts,
              'r' || (i // 5) AS request_id, 'champion' AS variant, NULL::VARCHAR AS source_key,
              strftime(TIMESTAMP '${POPULATION_END.replace('T', ' ').replace('Z', '')}' - to_seconds(i % 2592000), '%Y-%m-%d') AS day
         FROM (SELECT i, (i * 7 % ${u}) AS uid, ((i * 7 % ${u}) % 8 + 8 * (i * 11 % 60)) AS a FROM range(${n}) t(i)) s
     ) TO '${lake.tableDir('events')}' (FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE, COMPRESSION zstd)`,
  );
  await lake.refresh();
}
