-- Each user's top 100 songs, weighted as the artists are. An artist event naming songs credits them.
TRUNCATE feature_user_top_songs;

INSERT INTO feature_user_top_songs (user_id, rank, song_id, score)
WITH params AS (
  SELECT current_setting('features.as_of')::timestamptz AS as_of,
         current_setting('features.half_life_days')::double precision * 86400 AS half_life_s
),
credited AS (
  SELECT e.user_id, e.item_id AS song_id, e.event_type, e.ts
    FROM events e, params p
   WHERE e.item_type = 'song' AND e.event_type <> 'impression' AND e.ts < p.as_of
  UNION ALL
  SELECT e.user_id, s.song_id, e.event_type, e.ts
    FROM events e CROSS JOIN params p CROSS JOIN LATERAL unnest(e.song_ids) AS s(song_id)
   WHERE e.item_type = 'artist' AND e.event_type <> 'impression' AND e.ts < p.as_of
),
scored AS (
  SELECT c.user_id, c.song_id,
         sum(event_weight(c.event_type) * power(0.5, extract(epoch FROM p.as_of - c.ts) / p.half_life_s)) AS score
    FROM credited c, params p
   GROUP BY c.user_id, c.song_id
),
ranked AS (
  SELECT user_id, song_id, score,
         row_number() OVER (PARTITION BY user_id ORDER BY score DESC, song_id COLLATE "C") AS rank
    FROM scored
)
SELECT user_id, rank, song_id, score FROM ranked WHERE rank <= 100;
