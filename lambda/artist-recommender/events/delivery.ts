import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { withDeadline } from '../../platform/shared/deadline';

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
  /** Injected so tests do not wait and can observe the delays. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface DeliveryResult {
  /** Positions (in the `records` argument) Firehose acknowledged. */
  delivered: number[];
  /** Positions still not acknowledged after the last attempt, with the last error seen. */
  undelivered: { position: number; error: string }[];
  attempts: number;
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
  let pending = records.map((_, position) => position);
  const lastError = new Map<number, string>();
  const delivered: number[] = [];
  let attempts = 0;

  while (pending.length > 0 && attempts < options.maxAttempts) {
    if (attempts > 0) {
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempts);
      await sleep(Math.floor(random() * ceiling));
    }
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
  };
}
