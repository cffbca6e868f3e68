import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LAB_FAULTS, type LabFault } from "../../harness/lab/faults.js";
import { Lab } from "../../harness/lab/lab.js";
import { runScenarios } from "../../harness/runner.js";
import { openSession, runConformance, type Session } from "../../harness/session.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";
import { runsOnCluster } from "../../harness/scenario.js";
import { chosenForTest } from "../chosen-scenarios.js";

// Multi-host scenarios are broken on a lab of their own (multi-host.test.ts).
const singleHost = chosenForTest().filter((s) => !runsOnCluster(s));
const labFaults = [...new Set(singleHost.map((s) => s.brokenBy).filter((f): f is LabFault => typeof f === "string"))];

test("every lab fault is some scenario's broken setup: none is kept that proves nothing", () => {
  const used = new Set(ALL_SCENARIOS.map((s) => s.brokenBy).filter((f) => typeof f === "string"));
  expect(Object.keys(LAB_FAULTS).filter((fault) => !used.has(fault as LabFault))).toEqual([]);
});

describe("each scenario fails on its broken setup", () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSession({ engine: "private" });
  });
  afterAll(async () => {
    await session?.close();
  });

  test.each(labFaults)("with the lab fault %s", async (fault) => {
    const scenarios = singleHost.filter((s) => s.brokenBy === fault);
    const lab = await Lab.open({
      runId: randomBytes(3).toString("hex"),
      image: session.lab.image,
      faults: [fault],
      ...(session.engine.outsideHost ? { outsideHost: session.engine.outsideHost } : {}),
      ...(session.engine.netns ? { engineNetns: session.engine.netns } : {}),
      ...(session.engine.resolvConf ? { engineResolvConf: session.engine.resolvConf } : {}),
    });
    try {
      // Scenarios with a daemon configuration run on engines of their own, which only runConformance starts.
      const results =
        fault === "daemon-config-dropped"
          ? (await runConformance({ ...session, lab }, { scenarios, concurrency: 4, timeoutMs: 120_000, strict: false })).results
          : await runScenarios({ scenarios, lab, capabilities: session.capabilities, concurrency: 4, timeoutMs: 120_000 });
      for (const result of results) {
        // Where this kernel lacks what a scenario needs (802.1Q, dummy links, ipvlan), it cannot run at all.
        if (result.status === "skipped" && /^kernel has no CONFIG_/.test(result.reason ?? "")) continue;
        expect(result.status, `${result.id} under ${fault}: ${result.reason ?? "passed"}`).toBe("failed");
        const last = result.evidence.at(-1);
        expect(last?.ok, `${result.id}: the failing evidence comes last`).toBe(false);
        expect(result.reason).toContain(`observed ${last?.observed}`);
        expect(last?.how.length).toBeGreaterThan(0);
      }
    } finally {
      await lab.tearDown();
    }
  });
});
