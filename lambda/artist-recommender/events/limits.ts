/** Events accepted in one request: Firehose's PutRecordBatch takes at most 500 records a call. */
export const MAX_EVENTS_PER_REQUEST = 500;
