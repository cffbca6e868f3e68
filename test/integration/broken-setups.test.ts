import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LAB_FAULTS, type LabFault } from "../../harness/lab/faults.js";
import type { ScenarioResult } from "../../harness/results.js";
import { openSession, runConformance, type Session } from "../../harness/session.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";
import { runsOnCluster } from "../../harness/scenario.js";
import { cachedEngines } from "../../harness/engine/engine-binaries.js";
import { chosenForTest } from "../chosen-scenarios.js";
import { docknetLeftovers } from "./leftovers.js";
import { docknet } from "./run-cli.js";

// Multi-host scenarios are broken on a lab of their own (conformance.test.ts).
const singleHost = chosenForTest().filter((s) => !runsOnCluster(s));
// Those broken by a daemon setting are proven in cli.test.ts, on an engine started with it.
const labBroken = singleHost.filter((s): s is typeof s & { brokenBy: LabFault } => typeof s.brokenBy === "string");
const labFaults = [...new Set(labBroken.map((s) => s.brokenBy))];

test("every lab fault is some scenario's broken setup: none is kept that proves nothing", () => {
  const used = new Set(ALL_SCENARIOS.map((s) => s.brokenBy).filter((f) => typeof f === "string"));
  expect(Object.keys(LAB_FAULTS).filter((fault) => !used.has(fault as LabFault))).toEqual([]);
});

/**
 * One run on a private engine, each scenario on its own broken setup (a fault scoped to it, as
 * `--fault ID=FAULT` gives it): the scenarios run side by side as in a healthy run.
 */
describe("each scenario fails on its broken setup", () => {
  let session: Session;
  let results: readonly ScenarioResult[];
  let newerThanEveryEngineHere = /$^/;
  beforeAll(async () => {
    const faults = labBroken.map((s) => ({ fault: s.brokenBy, scenario: s.id }));
    session = await openSession({ engine: "private", faults });
    const onDefault = (
      await runConformance(session, { scenarios: labBroken, concurrency: 4, timeoutMs: 120_000, strict: false })
    ).results;
    // Behaviour that arrived after the default engine (gw-priority: 28.0) breaks on the newest cached
    // engine, in a docknet of its own (testcontainers keeps one engine per process).
    const newer = labBroken.filter((s) =>
      onDefault.some((r) => r.id === s.id && r.status === "skipped" && / is older than /.test(r.reason ?? "")),
    );
    const newest = cachedEngines()
      .filter((e) => !e.corrupt)
      .sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }))[0];
    let again: ScenarioResult[] = [];
    // Those that need a firewalld on the engine's host break on a private engine whose host runs one.
    const underFirewalld = labBroken.filter((s) =>
      onDefault.some((r) => r.id === s.id && r.status === "skipped" && /runs no firewalld/.test(r.reason ?? "")),
    );
    if (underFirewalld.length) {
      const out = await docknet([
        "run",
        "--firewall",
        "firewalld",
        ...underFirewalld.map((s) => s.id),
        ...underFirewalld.flatMap((s) => ["--fault", `${s.id}=${s.brokenBy}`]),
        "--json",
        "-",
      ]);
      again = (JSON.parse(out.stdout) as { results: ScenarioResult[] }).results;
    }
    if (newer.length && newest) {
      const out = await docknet([
        "run",
        "--engine-version",
        newest.version.replace(/\+.*$/, ""),
        ...newer.map((s) => s.id),
        ...newer.flatMap((s) => ["--fault", `${s.id}=${s.brokenBy}`]),
        "--json",
        "-",
      ]);
      again = [...again, ...(JSON.parse(out.stdout) as { results: ScenarioResult[] }).results];
    }
    results = onDefault.map((r) => again.find((a) => a.id === r.id) ?? r);
    newerThanEveryEngineHere = new RegExp(`^engine ${(newest?.version ?? "").replace(/[.+]/g, "\\$&")} is older than `);
  });
  afterAll(async () => {
    await session?.close();
    expect(docknetLeftovers()).toEqual([]);
  });

  test.each(labFaults)("with the lab fault %s", (fault) => {
    const broken = labBroken.filter((s) => s.brokenBy === fault).map((s) => s.id);
    const mine = results.filter((r) => broken.includes(r.id));
    expect(mine.map((r) => r.id)).toEqual(broken);
    for (const result of mine) {
      // Where this kernel lacks what a scenario needs (802.1Q, dummy links, ipvlan), it cannot run at all.
      if (result.status === "skipped" && /^kernel has no CONFIG_/.test(result.reason ?? "")) continue;
      // Behaviour newer than every engine here (Engine 29's, with Debian at 28.5) runs on a user's own engine only.
      if (result.status === "skipped" && newerThanEveryEngineHere.test(result.reason ?? "")) continue;
      expect(result.status, `${result.id} under ${fault}: ${result.reason ?? "passed"}`).toBe("failed");
      const last = result.evidence.at(-1);
      expect(last?.ok, `${result.id}: the failing evidence comes last`).toBe(false);
      expect(result.reason).toContain(`observed ${last?.observed}`);
      expect(last?.how.length).toBeGreaterThan(0);
    }
  });
});
