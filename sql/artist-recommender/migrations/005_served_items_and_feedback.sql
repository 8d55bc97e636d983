-- What the recommender served and what users said about it (the `recommendation` and `feedback`
-- lines of the event contract, lib/designs/artist-recommender/contracts/events.ts), loaded by the
-- event transform. As for `events`, the primary keys are the cross-object dedupe: loads use
-- INSERT ... ON CONFLICT DO NOTHING, so a resent line or a retried object adds nothing.

-- One row per item of a served list: a `recommendation` line holds a whole list, keyed by its
-- request id; the position is 1-based, in the order the list was shown.
CREATE TABLE served_items (
  request_id    text NOT NULL,
  position      integer NOT NULL CHECK (position BETWEEN 1 AND 100),
  user_id       text NOT NULL,
  artist_id     text NOT NULL,
  variant       text NOT NULL,
  model_version text NOT NULL,
  source        text NOT NULL CHECK (source IN ('cache', 'model', 'fallback')),
  score         double precision NOT NULL CHECK (score BETWEEN -1 AND 1),
  ts            timestamptz NOT NULL,
  source_key    text,
  loaded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, position)
);

CREATE INDEX served_items_ts ON served_items (ts);
-- Labels and the unmatched-feedback flags look a served item up by (request, artist).
CREATE INDEX served_items_request_artist ON served_items (request_id, artist_id);

-- One row per feedback item; event_id is derived from (request_id, artist_id, clicked), so a
-- resent item is the same row. variant is the one the client echoed, NULL when it sent none.
CREATE TABLE feedback (
  event_id   text PRIMARY KEY,
  request_id text NOT NULL,
  user_id    text NOT NULL,
  artist_id  text NOT NULL,
  clicked    boolean NOT NULL,
  variant    text,
  ts         timestamptz NOT NULL,
  source_key text,
  loaded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX feedback_request_artist ON feedback (request_id, artist_id);
CREATE INDEX feedback_ts ON feedback (ts);
