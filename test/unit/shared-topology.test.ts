import type Docker from "dockerode";
import { describe, expect, test } from "vitest";
import type { LabFault } from "../../harness/lab/faults.js";
import { Probe } from "../../harness/lab/probe.js";
import { SharedTopologies, topology } from "../../harness/lab/shared-topology.js";

/** An engine that answers inspect from a table the test changes, as a scenario would change the engine. */
function fakeEngine() {
  const containers: Record<string, { running: boolean; networks: string[] }> = {};
  const docker = {
    getContainer: (id: string) => ({
      inspect: async () => {
        const c = containers[id];
        if (!c) throw new Error(`no such container: ${id}`);
        return {
          State: { Running: c.running, StartedAt: "t0" },
          NetworkSettings: {
            Networks: Object.fromEntries(c.networks.map((n) => [n, { IPAddress: "10.0.0.2", MacAddress: "m" }])),
          },
        };
      },
    }),
    getNetwork: () => ({ inspect: async () => ({ Internal: false, Options: {}, IPAM: { Config: [] } }) }),
  } as unknown as Docker; // only the inspects the fingerprint reads
  return { docker, containers };
}

/** An engine and a topology of one running container ("c1", "c2", … one per build). */
function engineWithPair() {
  const engine = fakeEngine();
  let builds = 0;
  const pair = topology("pair", async () => {
    builds++;
    engine.containers[`c${builds}`] = { running: true, networks: ["bridge"] };
    return { client: probe(`c${builds}`) };
  });
  return { ...engine, pair, builds: () => builds };
}

const probe = (id: string) => new Probe({ id, exec: async () => ({ exitCode: 0, stdout: "", stderr: "" }) }, id);
const scope = () => ({ async tearDown() {} });
const none = new Set<LabFault>();

describe("shared topologies", () => {
  test("built once for scenarios asking at once, once more per fault set; torn down once each", async () => {
    const { docker, pair, builds } = engineWithPair();
    const torn: string[] = [];
    const shared = new SharedTopologies(docker, (id) => ({ tearDown: async () => void torn.push(id) }));
    const [a, b] = await Promise.all([shared.use(pair, none), shared.use(pair, none)]);
    expect(a.members.client).toBe(b.members.client);
    const broken = await shared.use(pair, new Set<LabFault>(["servers-down"]));
    expect(broken.members.client).not.toBe(a.members.client);
    expect(builds()).toBe(2);
    await shared.tearDown();
    expect(torn).toEqual(["shared-pair-1", "shared-pair-2"]);
  });

  test("a scenario that changed it gets one failed evidence naming the change, and the next one a fresh topology", async () => {
    const { docker, containers, pair } = engineWithPair();
    const shared = new SharedTopologies(docker, scope);
    const first = await shared.use(pair, none);
    const again = await shared.use(pair, none);
    expect(await shared.changes([first.use, again.use])).toEqual([]);
    containers.c1!.networks = [];
    const evidence = await shared.changes([first.use, again.use]);
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({ ok: false, expected: "unchanged", how: "docker inspect c1" });
    expect(evidence[0]!.observed).toMatch(/^client\.networks: \["bridge 10\.0\.0\.2 - m"\] → \[\]/);
    expect((await shared.use(pair, none)).members.client.id).toBe("c2");
  });

  test("a build that fails fails every scenario waiting for it, and leaves no unhandled rejection", async () => {
    const { docker } = fakeEngine();
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const refused = topology("refused", async () => {
        throw new Error("the engine refused the probe");
      });
      const shared = new SharedTopologies(docker, scope);
      const asks = await Promise.allSettled([shared.use(refused, none), shared.use(refused, none)]);
      expect(asks.map((a) => a.status)).toEqual(["rejected", "rejected"]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await shared.tearDown();
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
    }
  });
});
