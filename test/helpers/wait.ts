/** Waiting for a condition instead of sleeping: the one `waitFor` (and `waitForValue`) of the test suite. */

/**
 * Polls `cond` until it returns true (every `everyMs`, default 50 ms); throws naming `what`
 * after `timeoutMs`. An exception from `cond` fails at once.
 */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  await waitForValue(what, async () => ((await cond()) ? true : undefined), timeoutMs, everyMs);
}

/**
 * Like `waitFor`, for a value: polls `get` until it returns something other than `undefined`
 * and resolves with that. Throws naming `what` after `timeoutMs`; an exception from `get`
 * fails at once.
 */
export async function waitForValue<T>(what: string, get: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
