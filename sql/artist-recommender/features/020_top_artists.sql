-- Each user's top 100 artists before features.as_of, by recency-weighted interaction strength:
-- every click/play/like counts event_weight() * 0.5 ^ (age / features.half_life_days). A song event
-- credits the song's artists.
TRUNCATE feature_user_top_artists;

INSERT INTO feature_user_top_artists (user_id, rank, artist_id, score)
WITH params AS (
  SELECT current_setting('features.as_of')::timestamptz AS as_of,
         current_setting('features.half_life_days')::double precision * 86400 AS half_life_s
),
credited AS (
  SELECT e.user_id, e.item_id AS artist_id, e.event_type, e.ts
    FROM events e, params p
   WHERE e.item_type = 'artist' AND e.event_type <> 'impression' AND e.ts < p.as_of
  UNION ALL
  SELECT e.user_id, a.artist_id, e.event_type, e.ts
    FROM events e CROSS JOIN params p CROSS JOIN LATERAL unnest(e.artist_ids) AS a(artist_id)
   WHERE e.item_type = 'song' AND e.event_type <> 'impression' AND e.ts < p.as_of
),
scored AS (
  SELECT c.user_id, c.artist_id,
         sum(event_weight(c.event_type) * power(0.5, extract(epoch FROM p.as_of - c.ts) / p.half_life_s)) AS score
    FROM credited c, params p
   GROUP BY c.user_id, c.artist_id
),
ranked AS (
  SELECT user_id, artist_id, score,
         row_number() OVER (PARTITION BY user_id ORDER BY score DESC, artist_id COLLATE "C") AS rank
    FROM scored
)
SELECT user_id, rank, artist_id, score FROM ranked WHERE rank <= 100;
