-- The day's staged interactions not stored yet: one row per event_id (the first staged copy), none
-- whose event_id the table already holds. Same rule as the PostgreSQL load's ON CONFLICT.
SELECT s.event_id, s.user_id, s.event_type, s.item_type, s.item_id, s.artist_ids, s.song_ids,
       CAST(s.ts AS timestamp(6)) AS ts, s.request_id, s.variant, s.source_key
  FROM (SELECT st.*, row_number() OVER (PARTITION BY st.event_id ORDER BY st.source_key, st.line) AS copy
          FROM staging_events st
         WHERE st.day = {{day}}) s
 WHERE s.copy = 1
   AND NOT EXISTS (SELECT 1 FROM events t WHERE t.event_id = s.event_id)
