import { DeadlineExceededError, withDeadline } from '../../../../lambda/platform/shared/deadline';

describe('withDeadline', () => {
  test('answers with the callee when it is in time', async () => {
    await expect(withDeadline('fast', 200, async () => 'ok')).resolves.toBe('ok');
  });

  test('settles at the deadline when the callee ignores the signal', async () => {
    const started = Date.now();
    const never = () => new Promise<string>(() => undefined);
    await expect(withDeadline('silent', 50, never)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('fails with the deadline, not the abort, when the callee rejects as soon as it is aborted', async () => {
    // What the SDK's HTTP handler does: it rejects with its own AbortError on the signal.
    const abortable = (signal: AbortSignal) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        ),
      );
    await expect(withDeadline('abortable', 30, abortable)).rejects.toThrow(
      new DeadlineExceededError('abortable', 30),
    );
  });

  test('passes the callee its own failure before the deadline', async () => {
    const failing = async () => {
      throw new Error('refused');
    };
    await expect(withDeadline('failing', 200, failing)).rejects.toThrow('refused');
  });
});
