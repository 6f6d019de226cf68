/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 50 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
