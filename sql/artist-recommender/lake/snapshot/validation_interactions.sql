-- validation/interactions.csv: pairs of the events from {{cutoff}} to {{as_of}}, less the pairs
-- already in training: the validation set measures new discoveries and cannot leak a training pair.
WITH credited AS ({{> snapshot/credited}}),
seen AS (
  SELECT DISTINCT user_id, item_id FROM credited WHERE ts < {{cutoff}}
)
SELECT v.user_id, v.item_id, sum(v.weight) AS weight,
       date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', max(v.ts)) AS ts_ms
  FROM credited v
  LEFT JOIN seen s ON s.user_id = v.user_id AND s.item_id = v.item_id
 WHERE v.ts >= {{cutoff}} AND v.ts < {{as_of}} AND s.user_id IS NULL
 GROUP BY v.user_id, v.item_id
