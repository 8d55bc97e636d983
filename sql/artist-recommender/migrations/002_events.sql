-- Clean events from the ETL. The primary key on event_id is the cross-object dedupe:
-- loads use INSERT ... ON CONFLICT DO NOTHING.
CREATE TABLE events (
  event_id   text PRIMARY KEY,
  user_id    text NOT NULL,
  event_type text NOT NULL CHECK (event_type IN ('impression', 'click', 'play', 'like')),
  item_type  text NOT NULL CHECK (item_type IN ('artist', 'song')),
  item_id    text NOT NULL,
  artist_ids text[] NOT NULL DEFAULT '{}',
  song_ids   text[] NOT NULL DEFAULT '{}',
  ts         timestamptz NOT NULL,
  request_id text NOT NULL,
  variant    text NOT NULL,
  source_key text,
  loaded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_user_ts ON events (user_id, ts);
CREATE INDEX events_ts ON events (ts);
-- Negatives look up the click on the same (request, item) as an impression.
CREATE INDEX events_request_item ON events (request_id, item_id) WHERE event_type = 'click';
