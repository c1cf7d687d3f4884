// Waiting for something that happens asynchronously (a notice from another process, a backend
// reaching a state), without guessing how long it takes.

export interface EventuallyOptions {
  /** How long to keep trying before failing the test. */
  timeoutMs: number;
  /** Pause between attempts. */
  intervalMs?: number;
  /** What is awaited, for the timeout's message. */
  what?: string;
}

/**
 * Calls `check` until it neither throws nor returns `false`, and returns what it returned.
 * An assertion inside `check` is retried; on timeout its last failure is the test's failure.
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs, intervalMs = 50, what }: EventuallyOptions): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) {
      if (failure) throw failure;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what ?? 'a condition'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
