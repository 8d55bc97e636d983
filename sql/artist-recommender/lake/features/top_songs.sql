-- Each user's top 100 songs, weighted as the artists are (../../features/030_top_songs.sql). An
-- artist event naming songs credits them.
WITH credited AS (
  SELECT e.user_id, e.item_id AS song_id, e.event_type, e.ts
    FROM events e
   WHERE e.item_type = 'song' AND e.event_type <> 'impression' AND e.ts < {{as_of}}
  UNION ALL
  SELECT e.user_id, s.song_id, e.event_type, e.ts
    FROM events e CROSS JOIN UNNEST(e.song_ids) AS s (song_id)
   WHERE e.item_type = 'artist' AND e.event_type <> 'impression' AND e.ts < {{as_of}}
),
scored AS (
  SELECT user_id, song_id,
         sum(CASE event_type WHEN 'click' THEN 1 WHEN 'play' THEN 2 WHEN 'like' THEN 3 ELSE 0 END
             * power(0.5, CAST(date_diff('millisecond', ts, {{as_of}}) AS double)
                          / (CAST({{half_life_days}} AS double) * 86400000))) AS score
    FROM credited
   GROUP BY user_id, song_id
),
ranked AS (
  SELECT user_id, song_id, score,
         row_number() OVER (PARTITION BY user_id ORDER BY score DESC, song_id) AS rank
    FROM scored
)
SELECT user_id, rank, song_id, score FROM ranked WHERE rank <= 100
