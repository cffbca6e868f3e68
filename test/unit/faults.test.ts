import { expect, test } from "vitest";
import { parseFaultChoice, scopeFaults, splitFaults } from "../../harness/lab/faults.js";

test("a fault named for one scenario (or one attempt) breaks only that scope; one named alone breaks every scope", () => {
  const faults = splitFaults([
    "servers-down",
    parseFaultChoice("PP-01=publish-dropped")!,
    parseFaultChoice("DNS-02-2=user-network-is-default-bridge")!,
  ]);
  expect([...faults.runWide]).toEqual(["servers-down"]);
  expect([...scopeFaults(faults, "PP-01", "PP-01")]).toEqual(["publish-dropped"]);
  expect([...scopeFaults(faults, "PP-01-2", "PP-01")]).toEqual(["publish-dropped"]);
  expect([...scopeFaults(faults, "DNS-02", "DNS-02")]).toEqual([]);
  expect([...scopeFaults(faults, "DNS-02-2", "DNS-02")]).toEqual(["user-network-is-default-bridge"]);
  expect([...scopeFaults(faults, "UB-01", "UB-01")]).toEqual([]);
  expect(parseFaultChoice("PP-01=no-such-fault")).toBeUndefined();
});

test("routing faults send a container asked onto one kind of network to another, and only that kind", async () => {
  const { misroutedTo } = await import("../../harness/lab/faults.js");
  const only = (fault: string) => (f: string) => f === fault;
  expect(misroutedTo("user", only("user-network-is-default-bridge"))).toBe("default-bridge");
  expect(misroutedTo("default-bridge", only("user-network-is-default-bridge"))).toBeUndefined();
  expect(misroutedTo("default-bridge", only("default-bridge-is-user-network"))).toBe("user");
  expect(misroutedTo("host", only("host-network-is-default-bridge"))).toBe("default-bridge");
  expect(misroutedTo("none", only("none-network-is-default-bridge"))).toBe("default-bridge");
  expect(misroutedTo("container", () => true)).toBeUndefined();
});

test("detach-after-start takes a started probe off its user-defined networks, and leaves the engine's own", async () => {
  const { afterStartFaults } = await import("../../harness/lab/faults.js");
  const { plainProbeSpec } = await import("../../harness/lab/probe-spec.js");
  const spec = plainProbeSpec({
    name: "p",
    image: "i",
    labels: {},
    servers: [],
    networks: [
      { network: { name: "dn-net-a", kind: "user" }, endpoint: {} },
      { network: { name: "bridge", kind: "default-bridge" }, endpoint: {} },
      { network: { name: "dn-net-b", kind: "user" }, endpoint: {} },
    ],
  });
  const left: string[] = [];
  const probe = { disconnect: async (network: string) => void left.push(network) };
  await afterStartFaults(spec, probe, () => false);
  expect(left).toEqual([]);
  await afterStartFaults(spec, probe, (f) => f === "detach-after-start");
  expect(left).toEqual(["dn-net-a", "dn-net-b"]);
});

test("world and swarm faults each change one thing of a healthy world; no fault changes nothing", async () => {
  const { HEALTHY_WORLD, HEALTHY_SWARM, WORLD_FAULTS, SWARM_FAULTS, scopeWorld, swarmWorld } =
    await import("../../harness/lab/faults.js");
  expect(scopeWorld(() => false)).toEqual(HEALTHY_WORLD);
  expect(swarmWorld(() => false)).toEqual(HEALTHY_SWARM);
  const changed = (a: object, b: object) =>
    Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]);
  for (const fault of Object.keys(WORLD_FAULTS))
    expect(
      changed(
        HEALTHY_WORLD,
        scopeWorld((f) => f === fault),
      ),
      fault,
    ).toHaveLength(1);
  for (const fault of Object.keys(SWARM_FAULTS))
    expect(
      changed(
        HEALTHY_SWARM,
        swarmWorld((f) => f === fault),
      ),
      fault,
    ).toHaveLength(1);
});

test("the lab names no fault: every fault acts through harness/lab/faults.ts", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { LAB_FAULTS } = await import("../../harness/lab/faults.js");
  const dir = join(import.meta.dirname, "..", "..", "harness", "lab");
  const named = readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "faults.ts")
    .flatMap((f) =>
      Object.keys(LAB_FAULTS)
        .filter((fault) => readFileSync(join(dir, f), "utf8").includes(`"${fault}"`))
        .map((fault) => `${f}: ${fault}`),
    );
  expect(named).toEqual([]);
});
