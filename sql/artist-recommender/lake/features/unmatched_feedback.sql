-- Feedback recorded before {{as_of}} that labels no served item, with the first reason that
-- applies: unknown_request, unknown_item, expired_request (unmatched_feedback() of
-- ../../migrations/006_feedback_labels.sql). Lists served at or after {{as_of}} are not known yet.
-- A feedback labels an item when it came at most 168 hours after the item's latest serving.
WITH served AS (
  SELECT request_id, artist_id, max(ts) AS last_served
    FROM served_items
   WHERE ts < {{as_of}}
   GROUP BY request_id, artist_id
),
requests AS (
  SELECT DISTINCT request_id FROM served
)
SELECT f.event_id, f.request_id, f.user_id, f.artist_id, f.clicked, f.variant,
       date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', f.ts) AS ts_ms,
       CASE WHEN r.request_id IS NULL THEN 'unknown_request'
            WHEN s.request_id IS NULL THEN 'unknown_item'
            ELSE 'expired_request' END AS reason
  FROM feedback f
  LEFT JOIN requests r ON r.request_id = f.request_id
  LEFT JOIN served s ON s.request_id = f.request_id AND s.artist_id = f.artist_id
 WHERE f.ts < {{as_of}}
   AND (s.request_id IS NULL OR f.ts > s.last_served + INTERVAL '168' HOUR)
