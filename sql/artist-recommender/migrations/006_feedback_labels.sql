-- Click labels of served items, and the feedback that labels none, as functions: the feature build
-- (sql/features/040_feedback_labels.sql) and the snapshot export (train/ and validation/
-- feedback.csv) apply the same rules, and sagemaker/artist_recommender/channels.py mirrors them.

-- How long after a list was served a feedback or click still labels it. In hours, not days: a
-- day interval added to a timestamptz follows the session's time zone across daylight saving.
CREATE FUNCTION feedback_window() RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT interval '168 hours' $$;

-- One row per served item (served before p_before; NULL: every one): clicked = 1 when, before
-- p_before and at most feedback_window() after it was served, a feedback with clicked = true or a
-- click event on the same request and artist was recorded; else 0 (shown, not clicked).
CREATE FUNCTION feedback_labels(p_before timestamptz DEFAULT NULL)
RETURNS TABLE (request_id text, "position" integer, user_id text, artist_id text, variant text,
               model_version text, source text, score double precision, clicked smallint, ts timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT s.request_id, s.position, s.user_id, s.artist_id, s.variant, s.model_version, s.source, s.score,
         CASE WHEN EXISTS (SELECT 1 FROM feedback f
                            WHERE f.request_id = s.request_id AND f.artist_id = s.artist_id AND f.clicked
                              AND f.ts <= s.ts + feedback_window()
                              AND (p_before IS NULL OR f.ts < p_before))
                OR EXISTS (SELECT 1 FROM events e
                            WHERE e.event_type = 'click' AND e.request_id = s.request_id
                              AND e.item_id = s.artist_id AND e.ts <= s.ts + feedback_window()
                              AND (p_before IS NULL OR e.ts < p_before))
              THEN 1 ELSE 0 END::smallint,
         s.ts
    FROM served_items s
   WHERE p_before IS NULL OR s.ts < p_before
$$;

-- Feedback (recorded before p_before; NULL: all) that labels no served item, with the first reason
-- that applies: unknown_request (no list served under its request id), unknown_item (the list did
-- not hold its artist), expired_request (served more than feedback_window() before the feedback).
-- Lists served at or after p_before are not known yet.
CREATE FUNCTION unmatched_feedback(p_before timestamptz DEFAULT NULL)
RETURNS TABLE (event_id text, request_id text, user_id text, artist_id text, clicked boolean,
               variant text, ts timestamptz, reason text)
LANGUAGE sql STABLE AS $$
  SELECT f.event_id, f.request_id, f.user_id, f.artist_id, f.clicked, f.variant, f.ts,
         CASE WHEN NOT EXISTS (SELECT 1 FROM served_items s
                                WHERE s.request_id = f.request_id AND (p_before IS NULL OR s.ts < p_before))
              THEN 'unknown_request'
              WHEN NOT EXISTS (SELECT 1 FROM served_items s
                                WHERE s.request_id = f.request_id AND s.artist_id = f.artist_id
                                  AND (p_before IS NULL OR s.ts < p_before))
              THEN 'unknown_item'
              ELSE 'expired_request' END
    FROM feedback f
   WHERE (p_before IS NULL OR f.ts < p_before)
     AND NOT EXISTS (SELECT 1 FROM served_items s
                      WHERE s.request_id = f.request_id AND s.artist_id = f.artist_id
                        AND f.ts <= s.ts + feedback_window()
                        AND (p_before IS NULL OR s.ts < p_before))
$$;

-- The feature tables of both, rebuilt by sql/features/040_feedback_labels.sql. They replace the
-- labels 004 derived from impression events: the served list, recorded by the server, is what was
-- shown; client impressions without one label nothing.
DROP TABLE feature_feedback_labels;

CREATE TABLE feature_feedback_labels (
  request_id    text NOT NULL,
  position      integer NOT NULL,
  user_id       text NOT NULL,
  artist_id     text NOT NULL,
  variant       text NOT NULL,
  model_version text NOT NULL,
  source        text NOT NULL,
  score         double precision NOT NULL,
  clicked       smallint NOT NULL CHECK (clicked IN (0, 1)),
  ts            timestamptz NOT NULL,
  PRIMARY KEY (request_id, position)
);

CREATE TABLE feature_unmatched_feedback (
  event_id   text PRIMARY KEY,
  request_id text NOT NULL,
  user_id    text NOT NULL,
  artist_id  text NOT NULL,
  clicked    boolean NOT NULL,
  variant    text,
  ts         timestamptz NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('unknown_request', 'unknown_item', 'expired_request'))
);
