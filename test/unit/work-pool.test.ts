import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { inClaimPool, type PoolClaim } from "../../harness/work-pool.js";

type Resource = "engine" | "swarm";

/** Runs the claims, each job taking `ms`, and records which jobs ran at the same time as which. */
async function trace(claims: PoolClaim<Resource>[], limit: number, ms = (_: number) => 10) {
  const running = new Set<number>();
  const beside = claims.map(() => new Set<number>());
  const order: number[] = [];
  let most = 0;
  await inClaimPool(claims, limit, async (index) => {
    for (const other of running) {
      beside[index]!.add(other);
      beside[other]!.add(index);
    }
    running.add(index);
    most = Math.max(most, running.size);
    order.push(index);
    await sleep(ms(index));
    running.delete(index);
  });
  return { beside, order, most };
}

const engine = { uses: ["engine"], alone: false } as const;
const swarm = { uses: ["swarm"], alone: false } as const;

describe("inClaimPool", () => {
  test("a job alone on the swarm waits for the swarm's other jobs, not for the engine's, and nothing joins it on the swarm", async () => {
    const claims: PoolClaim<Resource>[] = [engine, swarm, { uses: ["swarm"], alone: true }, swarm];
    // The engine's job is slow: the alone job must start beside it, once the swarm's first job is done.
    const { beside, order } = await trace(claims, 4, (i) => (i === 0 ? 80 : 10));
    // The shared swarm job listed after it goes first; it then runs beside the engine's job only.
    expect(order).toEqual([0, 1, 3, 2]);
    expect(beside[2]).toEqual(new Set([0]));
  });

  test("a job that must wait does not hold back those after it", async () => {
    const claims: PoolClaim<Resource>[] = [swarm, { uses: ["swarm"], alone: true }, engine];
    const { order } = await trace(claims, 3);
    expect(order).toEqual([0, 2, 1]);
  });

  test("a job alone on the engine runs with nothing else on it; at most `limit` run at once", async () => {
    const claims: PoolClaim<Resource>[] = [engine, engine, engine, { uses: ["engine"], alone: true }, engine];
    const { beside, most } = await trace(claims, 2);
    expect(beside[3]).toEqual(new Set());
    expect(most).toBe(2);
  });

  test("a job that comes after another starts once that one is done, and `stop` starts no more", async () => {
    const claims: PoolClaim<Resource>[] = [engine, { ...engine, after: 0 }, engine];
    const { beside, order } = await trace(claims, 3);
    expect(beside[1]!.has(0)).toBe(false);
    expect(order).toEqual([0, 2, 1]);
    const ran: number[] = [];
    await inClaimPool(
      [engine, engine, engine],
      1,
      async (i) => void ran.push(i),
      () => ran.length >= 2,
    );
    expect(ran).toEqual([0, 1]);
  });

  test("a claim that can never be met is an error, not a hang", async () => {
    await expect(inClaimPool([{ ...engine, after: 0 }], 1, async () => {})).rejects.toThrow(/can never start/);
  });
});
