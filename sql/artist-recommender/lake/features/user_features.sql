-- One row per k-anonymous profile (the account database's export, `profiles`: no birth date, no
-- raw location) with its event features: top artists and songs comma-joined in rank order, and
-- interaction_count = clicks + plays + likes (export.ts's features(), the PostgreSQL path).
WITH artists AS (
  SELECT user_id, array_agg(artist_id ORDER BY rank) AS ids FROM ({{> features/top_artists}}) t GROUP BY user_id
),
songs AS (
  SELECT user_id, array_agg(song_id ORDER BY rank) AS ids FROM ({{> features/top_songs}}) t GROUP BY user_id
),
counts AS (
  SELECT user_id, count(*) AS n
    FROM events
   WHERE ts < {{as_of}} AND event_type IN ('click', 'play', 'like')
   GROUP BY user_id
)
SELECT p.user_id, p.age_group, p.location,
       coalesce(array_join(a.ids, ','), '') AS top_artists,
       coalesce(array_join(s.ids, ','), '') AS top_songs,
       coalesce(c.n, 0) AS interaction_count
  FROM profiles p
  LEFT JOIN artists a ON a.user_id = p.user_id
  LEFT JOIN songs s ON s.user_id = p.user_id
  LEFT JOIN counts c ON c.user_id = p.user_id
