/**
 * Runs `job` for every item, at most `limit` at once, starting them in order;
 * once `stop()` says so, no further item is started (those under way finish).
 * Each job is told which of the `limit` workers runs it (0-based), for what a
 * worker keeps from one job to its next.
 */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  job: (item: T, worker: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async (_: unknown, index: number) => {
    while (next < items.length && !stop()) await job(items[next++]!, index);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * What a job holds while it runs: the resources it uses (a private engine, a swarm), shared with
 * other jobs or alone, and the job that must have finished before it (an earlier attempt).
 */
export interface PoolClaim<R extends string> {
  readonly uses: readonly R[];
  readonly alone: boolean;
  readonly after?: number;
}

/**
 * Runs every job, at most `limit` at once. A job starts, in list order, as soon as a slot is free,
 * the job it comes after has finished, and its resources allow it: a job alone on a resource waits
 * until no other job uses it, and nothing else starts on it meanwhile. A job later in the list
 * starts before an earlier one that must wait, so work on one resource never waits for another's.
 * Once `stop()` says so, no further job starts (those under way finish).
 */
export async function inClaimPool<R extends string>(
  claims: readonly PoolClaim<R>[],
  limit: number,
  job: (index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  const pending = claims.map((_, index) => index);
  const running = new Set<number>();
  const finished = new Set<number>();
  const allows = (index: number): boolean => {
    const claim = claims[index]!;
    if (claim.after !== undefined && !finished.has(claim.after)) return false;
    return [...running].every((other) => {
      const held = claims[other]!;
      const overlap = held.uses.some((r) => claim.uses.includes(r));
      return !overlap || (!held.alone && !claim.alone);
    });
  };
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (!stop()) {
        for (let i = 0; i < pending.length && running.size < Math.max(1, limit);) {
          const index = pending[i]!;
          if (!allows(index)) {
            i++;
            continue;
          }
          pending.splice(i, 1);
          running.add(index);
          job(index).then(
            () => {
              running.delete(index);
              finished.add(index);
              pump();
            },
            (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
          );
        }
      }
      if (running.size > 0) return;
      // Nothing runs: everything is done, stopped, or (a claim that can never be met) a bug to see.
      if (pending.length > 0 && !stop()) reject(new Error(`jobs ${pending.join(", ")} can never start`));
      else resolve();
    };
    pump();
  });
}
