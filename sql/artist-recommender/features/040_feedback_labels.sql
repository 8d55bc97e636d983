-- Click labels for the next training run, one row per item served before features.as_of (1 =
-- clicked, from a feedback item or a click event on the same request and artist; 0 = shown, not
-- clicked), and the feedback that labels no served item, with its reason. The rules are the
-- functions of migrations/006_feedback_labels.sql, which the snapshot export uses too.
TRUNCATE feature_feedback_labels, feature_unmatched_feedback;

INSERT INTO feature_feedback_labels
  (request_id, position, user_id, artist_id, variant, model_version, source, score, clicked, ts)
SELECT request_id, position, user_id, artist_id, variant, model_version, source, score, clicked, ts
  FROM feedback_labels(current_setting('features.as_of')::timestamptz);

INSERT INTO feature_unmatched_feedback (event_id, request_id, user_id, artist_id, clicked, variant, ts, reason)
SELECT event_id, request_id, user_id, artist_id, clicked, variant, ts, reason
  FROM unmatched_feedback(current_setting('features.as_of')::timestamptz);
