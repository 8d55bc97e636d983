-- Privacy-preserving user attributes. These functions are the only readers of date_of_birth and
-- the raw location: everything exported goes through them.

-- Age band at a date; 'unknown' for a missing or impossible birth date.
CREATE FUNCTION age_group(dob date, as_of date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN dob IS NULL OR dob > as_of THEN 'unknown'
    WHEN date_part('year', age(as_of, dob)) < 18 THEN 'under-18'
    WHEN date_part('year', age(as_of, dob)) < 25 THEN '18-24'
    WHEN date_part('year', age(as_of, dob)) < 35 THEN '25-34'
    WHEN date_part('year', age(as_of, dob)) < 45 THEN '35-44'
    WHEN date_part('year', age(as_of, dob)) < 55 THEN '45-54'
    WHEN date_part('year', age(as_of, dob)) < 65 THEN '55-64'
    WHEN date_part('year', age(as_of, dob)) < 120 THEN '65+'
    ELSE 'unknown'
  END
$$;

-- k-anonymous (age group, location) per user. Location is generalised one level at a time:
-- users whose (age group, city) group has at least p_k members keep `country/state/city`; the rest
-- are grouped by state among themselves and keep `country/state` if that group reaches p_k; the rest
-- again by country; the rest get 'unknown'. An (age group, 'unknown') group still below p_k also
-- loses its age group; a final ('unknown', 'unknown') group below p_k (fewer than p_k such users in
-- the whole population) is suppressed: those users are not returned at all.
-- Every returned (age_group, location) group therefore has at least p_k users.
-- p_users restricts the population (the users of one export); NULL means every account.
CREATE FUNCTION generalise_locations(p_k integer, p_as_of date, p_users text[] DEFAULT NULL)
RETURNS TABLE (user_id text, age_group text, location text, location_level text)
LANGUAGE sql STABLE AS $$
  WITH population AS (
    SELECT a.user_id,
           age_group(a.date_of_birth, p_as_of) AS age_group,
           nullif(lower(btrim(a.country)), '') AS country,
           nullif(lower(btrim(a.state)), '') AS state,
           nullif(lower(btrim(a.city)), '') AS city
      FROM accounts a
     WHERE p_users IS NULL OR a.user_id IN (SELECT unnest(p_users))
  ),
  candidates AS (
    SELECT user_id, age_group,
           CASE WHEN country IS NOT NULL AND state IS NOT NULL AND city IS NOT NULL
                THEN country || '/' || state || '/' || city END AS l_city,
           CASE WHEN country IS NOT NULL AND state IS NOT NULL THEN country || '/' || state END AS l_state,
           country AS l_country
      FROM population
  ),
  at_city AS (
    SELECT c.*,
           CASE WHEN l_city IS NOT NULL AND count(*) OVER (PARTITION BY age_group, l_city) >= p_k
                THEN l_city END AS loc
      FROM candidates c
  ),
  at_state AS (
    SELECT user_id, age_group, l_country,
           coalesce(loc, CASE WHEN l_state IS NOT NULL
                                   AND count(*) OVER (PARTITION BY age_group, l_state, loc IS NULL) >= p_k
                              THEN l_state END) AS loc,
           CASE WHEN loc IS NOT NULL THEN 'city' END AS level
      FROM at_city
  ),
  at_country AS (
    SELECT user_id, age_group,
           coalesce(loc, CASE WHEN l_country IS NOT NULL
                                   AND count(*) OVER (PARTITION BY age_group, l_country, loc IS NULL) >= p_k
                              THEN l_country END) AS loc,
           coalesce(level, CASE WHEN loc IS NOT NULL THEN 'state' END) AS level
      FROM at_state
  ),
  located AS (
    SELECT user_id, age_group,
           coalesce(loc, 'unknown') AS location,
           coalesce(level, CASE WHEN loc IS NOT NULL THEN 'country' ELSE 'unknown' END) AS location_level
      FROM at_country
  ),
  aged AS (
    SELECT user_id,
           CASE WHEN location = 'unknown' AND count(*) OVER (PARTITION BY age_group, location) < p_k
                THEN 'unknown' ELSE age_group END AS age_group,
           location, location_level
      FROM located
  )
  SELECT user_id, age_group, location, location_level
    FROM (SELECT aged.*, count(*) OVER (PARTITION BY age_group, location) AS group_size FROM aged) sized
   WHERE group_size >= p_k
$$;

-- Interaction strength of one event; impressions carry none (they only make negatives).
CREATE FUNCTION event_weight(event_type text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE event_type WHEN 'click' THEN 1 WHEN 'play' THEN 2 WHEN 'like' THEN 3 ELSE 0 END
$$;
