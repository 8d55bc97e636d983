-- Positives and negatives for the next training run, one row per (user, request, item): 1 when the
-- user clicked, played or liked the item in that request; 0 when it was only shown (impressions and
-- no click on the same request and item). A play or like without a click still counts as positive.
TRUNCATE feature_feedback_labels;

INSERT INTO feature_feedback_labels (user_id, request_id, item_id, variant, label, ts)
SELECT user_id, request_id, item_id,
       min(variant COLLATE "C") AS variant,
       CASE WHEN bool_or(event_type <> 'impression') THEN 1 ELSE 0 END AS label,
       max(ts) AS ts
  FROM events
 WHERE ts < current_setting('features.as_of')::timestamptz
 GROUP BY user_id, request_id, item_id;
