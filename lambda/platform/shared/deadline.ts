/** A network call that did not answer within its deadline. */
export class DeadlineExceededError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Runs `call` with an abort signal that fires after `ms`, and settles by then even if the callee
 * ignores the signal: every network await ends by its deadline. A deadline always fails with the
 * DeadlineExceededError, even when the callee rejects at once on the abort (the SDK's HTTP handler
 * does): the race is lost to the deadline before the signal fires.
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  call: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceededError(what, ms);
      reject(error);
      controller.abort(error);
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
