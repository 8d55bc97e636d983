-- Interaction counts per user before features.as_of, with the label totals of 040: positives are
-- served items the user clicked, negatives served items shown and not clicked.
TRUNCATE feature_user_interactions;

INSERT INTO feature_user_interactions
  (user_id, impressions, clicks, plays, likes, positives, negatives, last_event_at)
SELECT e.user_id,
       count(*) FILTER (WHERE e.event_type = 'impression'),
       count(*) FILTER (WHERE e.event_type = 'click'),
       count(*) FILTER (WHERE e.event_type = 'play'),
       count(*) FILTER (WHERE e.event_type = 'like'),
       coalesce(max(l.positives), 0),
       coalesce(max(l.negatives), 0),
       max(e.ts)
  FROM events e
  LEFT JOIN (SELECT user_id,
                    count(*) FILTER (WHERE clicked = 1) AS positives,
                    count(*) FILTER (WHERE clicked = 0) AS negatives
               FROM feature_feedback_labels GROUP BY user_id) l ON l.user_id = e.user_id
 WHERE e.ts < current_setting('features.as_of')::timestamptz
 GROUP BY e.user_id;
