-- Age group and k-anonymous location of every account (features.k, age at features.as_of).
TRUNCATE feature_user_profile;

INSERT INTO feature_user_profile (user_id, age_group, location, location_level)
SELECT user_id, age_group, location, location_level
  FROM generalise_locations(current_setting('features.k')::integer,
                            (current_setting('features.as_of')::timestamptz AT TIME ZONE 'UTC')::date);
