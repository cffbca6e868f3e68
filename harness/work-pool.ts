/**
 * Runs `job` for every item, at most `limit` at once, starting them in order;
 * once `stop()` says so, no further item is started (those under way finish).
 */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  job: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) await job(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
