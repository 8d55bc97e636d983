-- Feature tables, rebuilt by sql/features/*.sql. None holds a birth date or a raw location.
CREATE TABLE feature_user_profile (
  user_id        text PRIMARY KEY,
  age_group      text NOT NULL,
  location       text NOT NULL,
  location_level text NOT NULL CHECK (location_level IN ('city', 'state', 'country', 'unknown'))
);

CREATE TABLE feature_user_top_artists (
  user_id   text NOT NULL,
  rank      integer NOT NULL CHECK (rank BETWEEN 1 AND 100),
  artist_id text NOT NULL,
  score     double precision NOT NULL,
  PRIMARY KEY (user_id, rank)
);

CREATE TABLE feature_user_top_songs (
  user_id text NOT NULL,
  rank    integer NOT NULL CHECK (rank BETWEEN 1 AND 100),
  song_id text NOT NULL,
  score   double precision NOT NULL,
  PRIMARY KEY (user_id, rank)
);

CREATE TABLE feature_user_interactions (
  user_id       text PRIMARY KEY,
  impressions   integer NOT NULL,
  clicks        integer NOT NULL,
  plays         integer NOT NULL,
  likes         integer NOT NULL,
  positives     integer NOT NULL,
  negatives     integer NOT NULL,
  last_event_at timestamptz NOT NULL
);

-- One row per (user, request, item) shown or acted on: 1 = click/play/like, 0 = an impression
-- with no click on the same request and item.
CREATE TABLE feature_feedback_labels (
  user_id    text NOT NULL,
  request_id text NOT NULL,
  item_id    text NOT NULL,
  variant    text NOT NULL,
  label      smallint NOT NULL CHECK (label IN (0, 1)),
  ts         timestamptz NOT NULL,
  PRIMARY KEY (user_id, request_id, item_id)
);

-- When and with which parameters the features were last built.
CREATE TABLE feature_runs (
  run_id         bigserial PRIMARY KEY,
  as_of          timestamptz NOT NULL,
  k              integer NOT NULL,
  half_life_days double precision NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT now()
);
