-- The day's staged served lists whose request id is not stored yet, whole: a list is never merged
-- into another under the same request id (the PostgreSQL load's rule). Of two staged copies of one
-- list, the first object's wins.
SELECT s.request_id, s.position, s.user_id, s.artist_id, s.variant, s.model_version, s.source, s.score,
       CAST(s.ts AS timestamp(6)) AS ts, s.source_key
  FROM (SELECT st.*,
               min(st.source_key) OVER (PARTITION BY st.request_id) AS first_key,
               row_number() OVER (PARTITION BY st.request_id, st.position ORDER BY st.source_key, st.line) AS copy
          FROM staging_served_items st
         WHERE st.day = {{day}}) s
 WHERE s.source_key = s.first_key AND s.copy = 1
   AND NOT EXISTS (SELECT 1 FROM served_items t WHERE t.request_id = s.request_id)
