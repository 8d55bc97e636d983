-- Interaction counts per user before {{as_of}}, with the label totals of feedback_labels.sql
-- (../../features/050_interactions.sql): positives are served items the user clicked, negatives
-- served items shown and not clicked.
WITH labels AS (
  SELECT user_id,
         count(*) FILTER (WHERE clicked = 1) AS positives,
         count(*) FILTER (WHERE clicked = 0) AS negatives
    FROM ({{> features/feedback_labels}}) l
   GROUP BY user_id
),
counted AS (
  SELECT e.user_id,
         count(*) FILTER (WHERE e.event_type = 'impression') AS impressions,
         count(*) FILTER (WHERE e.event_type = 'click') AS clicks,
         count(*) FILTER (WHERE e.event_type = 'play') AS plays,
         count(*) FILTER (WHERE e.event_type = 'like') AS likes,
         max(e.ts) AS last_event_at
    FROM events e
   WHERE e.ts < {{as_of}}
   GROUP BY e.user_id
)
SELECT c.user_id, c.impressions, c.clicks, c.plays, c.likes,
       coalesce(l.positives, 0) AS positives, coalesce(l.negatives, 0) AS negatives,
       date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', c.last_event_at) AS last_event_ms
  FROM counted c
  LEFT JOIN labels l ON l.user_id = c.user_id
