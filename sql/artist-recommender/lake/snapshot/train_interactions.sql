-- train/interactions.csv: (user, artist) pairs of the events before {{cutoff}}, their summed weight
-- and latest time (../../../lambda/artist-recommender/snapshot/export.ts, the PostgreSQL path).
SELECT user_id, item_id, sum(weight) AS weight,
       date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', max(ts)) AS ts_ms
  FROM ({{> snapshot/credited}}) c
 WHERE ts < {{cutoff}}
 GROUP BY user_id, item_id
