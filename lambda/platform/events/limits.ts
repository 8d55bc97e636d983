/**
 * Firehose's PutRecordBatch limits, which bound one `POST /v1/events` request: at most 500 records
 * and 4 MiB per call, each record at most 1,000 KiB; "these limits cannot be changed"
 * (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html).
 */
export const MAX_EVENTS_PER_REQUEST = 500;
export const FIREHOSE_CALL_BYTES_LIMIT = 4 * 1024 * 1024;
