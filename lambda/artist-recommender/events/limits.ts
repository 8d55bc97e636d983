/** Events accepted in one request: the platform's bound, Firehose's PutRecordBatch record limit. */
export { MAX_EVENTS_PER_REQUEST } from '../../platform/events/limits';
