import { cancellationPoint, pause } from "./cancellation.js";
import { scaled } from "./time-scale.js";

/**
 * Polls until `condition` holds or the time is up, and says which. A check
 * that throws counts as "not yet": engines and swarms answer in their own time.
 * A cancelled scenario's wait ends at once, with the cancellation's reason.
 */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    cancellationPoint();
    if (await condition().catch(() => false)) return true;
    cancellationPoint();
    if (Date.now() > deadline) return false;
    await pause(intervalMs);
  }
}

/**
 * Observes until `holds` is true of what was seen or the time is up, and
 * returns the last observation, which is the evidence either way.
 */
export async function observeUntil<T extends { readonly value: V }, V>(
  observe: () => Promise<T>,
  holds: (value: V) => boolean,
  timeoutMs: number,
  intervalMs = 300,
): Promise<T> {
  let last = await observe();
  if (!holds(last.value)) await waitFor(async () => holds((last = await observe()).value), timeoutMs, intervalMs);
  return last;
}
