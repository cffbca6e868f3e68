import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls until `condition` holds or the time is up, and says which. A check
 * that throws counts as "not yet": engines and swarms answer in their own time.
 */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
