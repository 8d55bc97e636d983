-- Each user's top 100 artists before {{as_of}}, by recency-weighted interaction strength: the rule
-- of ../../features/020_top_artists.sql (weights of event_weight(): click 1, play 2, like 3; each
-- halved every {{half_life_days}} days of age). A song event credits the song's artists.
WITH credited AS (
  SELECT e.user_id, e.item_id AS artist_id, e.event_type, e.ts
    FROM events e
   WHERE e.item_type = 'artist' AND e.event_type <> 'impression' AND e.ts < {{as_of}}
  UNION ALL
  SELECT e.user_id, a.artist_id, e.event_type, e.ts
    FROM events e CROSS JOIN UNNEST(e.artist_ids) AS a (artist_id)
   WHERE e.item_type = 'song' AND e.event_type <> 'impression' AND e.ts < {{as_of}}
),
scored AS (
  SELECT user_id, artist_id,
         sum(CASE event_type WHEN 'click' THEN 1 WHEN 'play' THEN 2 WHEN 'like' THEN 3 ELSE 0 END
             * power(0.5, CAST(date_diff('millisecond', ts, {{as_of}}) AS double)
                          / (CAST({{half_life_days}} AS double) * 86400000))) AS score
    FROM credited
   GROUP BY user_id, artist_id
),
ranked AS (
  SELECT user_id, artist_id, score,
         row_number() OVER (PARTITION BY user_id ORDER BY score DESC, artist_id) AS rank
    FROM scored
)
SELECT user_id, rank, artist_id, score FROM ranked WHERE rank <= 100
