import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Cluster } from "../../harness/lab/cluster.js";
import type { LabFault } from "../../harness/lab/faults.js";
import { RUN_LABEL, SCENARIO_LABEL } from "../../harness/lab/labels.js";
import { ensureProbeImage } from "../../harness/lab/probe-image.js";
import type { RunReport, ScenarioResult } from "../../harness/results.js";
import { runScenarios } from "../../harness/runner.js";
import { runsOnCluster } from "../../harness/scenario.js";
import { openSession, runConformance, type Session } from "../../harness/session.js";
import { junitXml } from "../../reports/junit.js";
import { chosenForTest } from "../chosen-scenarios.js";
import { docknetLeftovers } from "./leftovers.js";
import { HONEST_SKIP } from "./skip-reasons.js";
import { derive } from "../../harness/evidence.js";
import { defaultBridgePair } from "../../scenarios/topologies.js";
import { scenario as testScenario } from "../unit/test-scenario.js";

// Every scenario, or those DOCKNET_SCENARIOS names (test/chosen-scenarios.ts).
const CHOSEN = chosenForTest();
const MULTI_HOST = CHOSEN.filter(runsOnCluster);
const byId = (results: readonly ScenarioResult[], id: string) => results.find((r) => r.id === id)!;

/**
 * The whole suite as `npm run conformance` runs it as root: the single-host scenarios on a healthy
 * private engine, the multi-host ones on a healthy 3-host lab, in one run. Every scenario passes, or
 * skips naming what is missing.
 */
describe("conformance run on a private engine and a 3-host lab", () => {
  let session: Session;
  let report: RunReport;

  beforeAll(async () => {
    session = await openSession({ engine: "private", ...(MULTI_HOST.length ? { cluster: { lab: 3 } } : {}) });
    report = await runConformance(session, { scenarios: CHOSEN, concurrency: 4, timeoutMs: 120_000, strict: false });
    // The whole suite and a lab: minutes on a 2-core machine (the project's own hook bound is 5).
  }, 900_000);
  afterAll(async () => {
    await session?.close();
    expect(docknetLeftovers()).toEqual([]);
  });

  test("every scenario passes or is skipped with the missing capability named", () => {
    const notPassed = report.results.filter((r) => r.status !== "passed");
    for (const result of notPassed) {
      expect(result.status, `${result.id}: ${result.reason}`).toBe("skipped");
      expect(result.reason).toMatch(HONEST_SKIP);
    }
    expect(report.summary.passed).toBeGreaterThan(0);
  });

  test("every passing scenario recorded evidence of what it observed", () => {
    for (const result of report.results.filter((r) => r.status === "passed")) {
      expect(result.evidence.length, result.id).toBeGreaterThan(0);
      expect(
        result.evidence.every((e) => e.ok && e.how.length > 0),
        result.id,
      ).toBe(true);
    }
  });

  test("the JUnit report has one case per scenario, grouped by area", () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(junitXml(report));
    const suites = [xml.testsuites.testsuite].flat() as { name: string; testcase: unknown }[];
    const cases = suites.flatMap((s) => [s.testcase].flat()) as { name: string }[];
    expect(cases.map((c) => c.name.split(" ")[0])).toEqual(CHOSEN.map((s) => s.id));
    expect(new Set(suites.map((s) => s.name))).toEqual(new Set(CHOSEN.map((s) => `docknet.${s.area}`)));
  });

  test("the probe image is reused, not rebuilt: same content, same tag, same image", async () => {
    const before = await session.lab.docker.getImage(session.lab.image).inspect();
    expect(await ensureProbeImage(session.lab.docker)).toBe(session.lab.image);
    expect((await session.lab.docker.getImage(session.lab.image).inspect()).Id).toBe(before.Id);
    expect(session.lab.image).toMatch(/^docknet-probe:[0-9a-f]{12}$/);
  });

  test("nothing was pulled from a registry: the engine's log names no pull", () => {
    const log = readFileSync(session.engine.logFile!, "utf8");
    expect(log.split("\n").filter((line) => /pull|registry|index\.docker\.io/i.test(line))).toEqual([]);
  });

  /** The multi-host scenarios of that run, and each on a lab built with the fault that must break it. */
  describe.skipIf(MULTI_HOST.length === 0)("on the 3-host lab", () => {
    test("each passes, or skips naming the kernel options it lacks", () => {
      const missing = session.capabilities.kernelMissing!;
      const multiHost = report.results.filter((r) => MULTI_HOST.some((s) => s.id === r.id));
      expect(multiHost).toHaveLength(MULTI_HOST.length);
      for (const result of multiHost) {
        const reason = result.reason ?? "";
        if (result.status === "skipped") {
          // The routing mesh and VIPs need IPVS; encryption needs ESP. Anything else must pass.
          expect(["OV-05", "OV-11", "OV-15"], `${result.id}: ${reason}`).toContain(result.id);
          expect(reason).toMatch(/^kernel has no CONFIG_/);
        } else {
          expect(result.status, `${result.id}: ${reason}`).toBe("passed");
        }
      }
      expect(byId(report.results, "OV-05").status).toBe(missing.ipvs.length ? "skipped" : "passed");
      expect(byId(report.results, "OV-11").status).toBe(missing.encryptedOverlay.length ? "skipped" : "passed");
      expect(multiHost.filter((r) => r.status === "passed").length).toBeGreaterThanOrEqual(MULTI_HOST.length - 3);
    });

    test.skipIf(!process.getuid || process.getuid() !== 0)(
      "where the kernel has no ESP, the encrypted overlay is diagnosed as a black hole, with evidence",
      () => {
        const encrypted = byId(report.results, "OV-11");
        if (session.capabilities.kernelMissing!.encryptedOverlay.length === 0) return;
        expect(encrypted.reason).toMatch(/CONFIG_INET_ESP.*black-holes traffic/);
        const last = encrypted.evidence.at(-1)!;
        expect(last.ok).toBe(true);
        expect(last.observed).toMatch(/no reply/);
        expect(last.how).toMatch(/ping/);
      },
    );

    test("JUnit and JSON carry the lab: results name the nodes' commands", () => {
      const evidence = report.results.flatMap((r) => r.evidence);
      expect(evidence.some((e) => /docker -H unix:\/\/\S+ /.test(e.how))).toBe(true);
      expect(report.engine.cluster?.nodes).toBe(3);
      expect(report.engine.cluster?.disposable).toBe(true);
    });

    const faults = [...new Set(MULTI_HOST.map((s) => s.brokenBy).filter((f): f is LabFault => typeof f === "string"))];

    test.each(faults)(
      "on a lab built with the fault %s, its scenarios fail with evidence (or skip where the kernel lacks the feature)",
      async (fault) => {
        const scenarios = MULTI_HOST.filter((s) => s.brokenBy === fault);
        const cluster = await Cluster.open({
          nodes: session.cluster!.nodes,
          runId: randomBytes(3).toString("hex"),
          faults: [fault],
          ...(session.cluster!.control ? { control: session.cluster!.control } : {}),
        });
        try {
          const results = await runScenarios({
            scenarios,
            lab: session.lab,
            cluster,
            capabilities: session.capabilities,
            concurrency: 4,
            timeoutMs: 120_000,
          });
          for (const result of results) {
            const healthy = byId(report.results, result.id);
            if (healthy.status === "skipped" && result.id !== "OV-11") {
              expect(result.status, `${result.id} under ${fault}`).toBe("skipped");
              continue;
            }
            expect(result.status, `${result.id} under ${fault}: ${result.reason ?? "passed"}`).toBe("failed");
            const last = result.evidence.at(-1);
            expect(last?.ok, `${result.id}: the failing evidence comes last`).toBe(false);
            expect(result.reason).toContain(`observed ${last?.observed}`);
          }
        } finally {
          await cluster.tearDown();
        }
      },
    );

    test("after the faults, the lab is healthy again: cross-host traffic flows", async () => {
      const again = await runScenarios({
        scenarios: MULTI_HOST.filter((s) => ["OV-01", "OV-12"].includes(s.id)),
        lab: session.lab,
        cluster: session.cluster!,
        capabilities: session.capabilities,
        concurrency: 1,
        timeoutMs: 120_000,
      });
      expect(again.map((r) => `${r.id} ${r.status}`)).toEqual(["OV-01 passed", "OV-12 passed"]);
    });
  });

  test("a scenario that changes a shared topology fails saying what changed; the next one gets the topology afresh", async () => {
    const changes = testScenario({
      id: "SHARED-1",
      title: "disconnects the shared client from the default bridge",
      area: "test",
      doc: "test",
      async run({ lab }) {
        const { client } = await lab.shared(defaultBridgePair);
        await lab.disconnect(client, lab.defaultBridge);
      },
    });
    const reads = testScenario({
      id: "SHARED-2",
      title: "reads the shared client's networks",
      area: "test",
      doc: "test",
      async run({ lab, check }) {
        const { client } = await lab.shared(defaultBridgePair);
        check(
          "the shared client's networks",
          derive(await lab.inspect(client), (f) => Object.keys(f.networks)),
        ).is(["bridge"]);
      },
    });
    const [changed, read] = await runScenarios({
      scenarios: [changes, reads],
      lab: session.lab,
      capabilities: session.capabilities,
      concurrency: 1,
      timeoutMs: 60_000,
    });
    expect(changed!.status).toBe("failed");
    expect(changed!.reason).toMatch(
      /the shared topology "default bridge pair" is as it was built.*client\.networks: \["bridge /,
    );
    expect(changed!.evidence.at(-1)).toMatchObject({ ok: false, expected: "unchanged" });
    expect(read!.status, read!.reason).toBe("passed");
  });

  // Last: it tears down the run's lab.
  test("each scenario removed what it made; only the run's shared observer and topologies remain until the end", async () => {
    const filters = { label: [`${RUN_LABEL}=${session.lab.runId}`] };
    const containers = await session.lab.docker.listContainers({ all: true, filters });
    for (const c of containers) expect(c.Labels[SCENARIO_LABEL]).toMatch(/^shared(-.+-\d+)?$/);
    for (const n of await session.lab.docker.listNetworks({ filters }))
      expect(n.Labels?.[SCENARIO_LABEL]).toMatch(/^shared-.+-\d+$/);
    await session.lab.tearDown();
    expect(await session.lab.docker.listContainers({ all: true, filters })).toEqual([]);
  });
});
