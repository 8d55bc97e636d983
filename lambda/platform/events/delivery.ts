import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { withDeadline } from '../shared/deadline';

export interface DeliveryOptions {
  streamName: string;
  /** Calls to PutRecordBatch per request, the first included. */
  maxAttempts: number;
  /** Backoff before retry n is a random delay in [0, min(cap, base * 2^n)] ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Deadline of one PutRecordBatch call. A call that has not answered by then counts as failed for
   * every record it carried and is retried: the records may have landed (re-invoking PutRecordBatch
   * "can result in data duplicates",
   * https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html), and the ETL
   * drops the repeats by event_id. Without it one hung call would hold the function until its own timeout,
   * and the client would get no answer saying what was delivered.
   */
  callTimeoutMs: number;
  /**
   * Epoch ms by which the answer must be ready (the function's own end, less a margin): no attempt
   * starts unless its backoff and its whole call deadline fit before it, so whatever the attempts
   * and delays configured, the caller always has time to say which records were not delivered.
   * @default - no bound beyond maxAttempts
   */
  deadlineAt?: number;
  /** Injected so tests do not wait and can observe the delays. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface DeliveryResult {
  /** Positions (in the `records` argument) Firehose acknowledged. */
  delivered: number[];
  /** Positions still not acknowledged after the last attempt, with the last error seen. */
  undelivered: { position: number; error: string }[];
  attempts: number;
  /** Retries were cut short because the next attempt could not end before `deadlineAt`. */
  outOfTime: boolean;
}

/** Errors that retrying cannot fix: the stream is missing or the function may not write to it. */
const PERMANENT_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'InvalidArgumentException',
  'InvalidKMSResourceException',
]);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends records with PutRecordBatch and retries only the ones that were not acknowledged, either
 * because the whole call failed (throttling, a network error) or because Firehose reported a
 * per-record ErrorCode. Never throws: what was not delivered is returned, so the caller can say so.
 */
export async function deliverRecords(
  client: FirehoseClient,
  records: Uint8Array[],
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const deadlineAt = options.deadlineAt ?? Infinity;
  let pending = records.map((_, position) => position);
  const lastError = new Map<number, string>();
  const delivered: number[] = [];
  let attempts = 0;
  let outOfTime = false;

  while (pending.length > 0 && attempts < options.maxAttempts) {
    const delay =
      attempts > 0
        ? Math.floor(random() * Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempts))
        : 0;
    if (now() + delay + options.callTimeoutMs > deadlineAt) {
      outOfTime = true;
      break;
    }
    if (attempts > 0) await sleep(delay);
    attempts++;
    let permanent = false;
    try {
      const command = new PutRecordBatchCommand({
        DeliveryStreamName: options.streamName,
        Records: pending.map((position) => ({ Data: records[position] })),
      });
      const response = await withDeadline('PutRecordBatch', options.callTimeoutMs, (abortSignal) =>
        client.send(command, { abortSignal }),
      );
      const answers = response.RequestResponses ?? [];
      const failed: number[] = [];
      pending.forEach((position, i) => {
        const answer = answers[i];
        // A missing answer is not an acknowledgement: retry it rather than claim delivery.
        if (answer && !answer.ErrorCode && answer.RecordId) {
          delivered.push(position);
        } else {
          failed.push(position);
          lastError.set(position, answer?.ErrorCode ?? 'NoAcknowledgement');
        }
      });
      pending = failed;
    } catch (error) {
      const name = (error as Error).name || 'Error';
      for (const position of pending) lastError.set(position, name);
      permanent = PERMANENT_ERRORS.has(name);
    }
    if (permanent) break;
  }

  delivered.sort((a, b) => a - b);
  return {
    delivered,
    undelivered: pending.map((position) => ({ position, error: lastError.get(position) ?? 'NotAttempted' })),
    attempts,
    outOfTime,
  };
}
