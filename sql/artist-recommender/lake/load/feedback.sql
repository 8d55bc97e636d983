-- The day's staged feedback not stored yet, one row per event_id (derived from request, artist and
-- click, so a resent item is the same row).
SELECT s.event_id, s.request_id, s.user_id, s.artist_id, s.clicked, s.variant,
       CAST(s.ts AS timestamp(6)) AS ts, s.source_key
  FROM (SELECT st.*, row_number() OVER (PARTITION BY st.event_id ORDER BY st.source_key, st.line) AS copy
          FROM staging_feedback st
         WHERE st.day = {{day}}) s
 WHERE s.copy = 1
   AND NOT EXISTS (SELECT 1 FROM feedback t WHERE t.event_id = s.event_id)
