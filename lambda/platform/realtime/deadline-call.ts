import { DeadlineExceededError, withDeadline } from '../shared/deadline';

/**
 * `withDeadline`, whose failure at the deadline is always the DeadlineExceededError. When the
 * deadline aborts the call, a callee that rejects at once on the abort (the SDK's HTTP handler
 * does) can settle the race first with its own abort error; that error is the deadline too.
 */
export async function callWithin<T>(
  what: string,
  ms: number,
  call: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  let signal: AbortSignal | undefined;
  try {
    return await withDeadline(what, ms, (abortSignal) => {
      signal = abortSignal;
      return call(abortSignal);
    });
  } catch (error) {
    if (signal?.aborted && signal.reason instanceof DeadlineExceededError) throw signal.reason;
    throw error;
  }
}
