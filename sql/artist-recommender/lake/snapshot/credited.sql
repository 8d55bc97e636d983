-- Positive events credited to artists (the snapshot's interactions): an artist event credits its
-- item, a song event the song's artists, each with its event weight. Every event; the snapshot
-- queries choose the window.
SELECT e.user_id, e.item_id, CASE e.event_type WHEN 'click' THEN 1 WHEN 'play' THEN 2 WHEN 'like' THEN 3 ELSE 0 END AS weight, e.ts
  FROM events e
 WHERE e.item_type = 'artist' AND e.event_type <> 'impression'
UNION ALL
SELECT e.user_id, a.artist_id, CASE e.event_type WHEN 'click' THEN 1 WHEN 'play' THEN 2 WHEN 'like' THEN 3 ELSE 0 END, e.ts
  FROM events e CROSS JOIN UNNEST(e.artist_ids) AS a (artist_id)
 WHERE e.item_type = 'song' AND e.event_type <> 'impression'
