/**
 * The log line a serving function writes for each list it served, as `ServedListRecording` reads
 * it: one JSON object on one line whose `event_type` is SERVED_LIST_EVENT_TYPE, with the variant
 * that served it and the number of items shown. The rest of the line is the design's (its event
 * contract's `recommendation` kind). Bundled into handlers: no aws-cdk-lib here.
 */

/** `event_type` of a served list's line: the subscription and metric filters match on it. */
export const SERVED_LIST_EVENT_TYPE = 'recommendation';
/** The field holding the A/B variant that served the list: the Impressions metric's dimension. */
export const SERVED_LIST_VARIANT_FIELD = 'variant';
/** The field holding how many items the list showed: the Impressions metric's value. */
export const SERVED_LIST_COUNT_FIELD = 'item_count';

/** The metric of items shown to users, per A/B variant. */
export const IMPRESSIONS_METRIC = 'Impressions';
/**
 * The dimension of the A/B metrics: the variant that served a list, or that a design's feedback is
 * counted under.
 */
export const VARIANT_DIMENSION = 'Variant';
