-- Click labels, one row per item served before {{as_of}}: 1 when a feedback with clicked = true or
-- a click event on the same request and artist was recorded before {{as_of}} and at most 168 hours
-- after the list was served, else 0. The rule of feedback_labels() in
-- ../../migrations/006_feedback_labels.sql.
WITH clicks AS (
  SELECT f.request_id, f.artist_id, f.ts FROM feedback f WHERE f.clicked AND f.ts < {{as_of}}
  UNION ALL
  SELECT e.request_id, e.item_id, e.ts FROM events e WHERE e.event_type = 'click' AND e.ts < {{as_of}}
),
matched AS (
  SELECT DISTINCT s.request_id, s.position
    FROM served_items s
    JOIN clicks c ON c.request_id = s.request_id AND c.artist_id = s.artist_id
   WHERE s.ts < {{as_of}} AND c.ts <= s.ts + INTERVAL '168' HOUR
)
SELECT s.request_id, s.position, s.user_id, s.artist_id, s.variant, s.model_version, s.source, s.score,
       CASE WHEN m.request_id IS NULL THEN 0 ELSE 1 END AS clicked,
       date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', s.ts) AS ts_ms
  FROM served_items s
  LEFT JOIN matched m ON m.request_id = s.request_id AND m.position = s.position
 WHERE s.ts < {{as_of}}
