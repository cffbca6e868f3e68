import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RUN_LABEL, SCENARIO_LABEL } from "../../harness/lab/labels.js";
import { ensureProbeImage } from "../../harness/lab/probe-image.js";
import type { RunReport } from "../../harness/results.js";
import { openSession, runConformance, type Session } from "../../harness/session.js";
import { junitXml } from "../../reports/junit.js";
import { chosenForTest } from "../chosen-scenarios.js";

// Every scenario, or those DOCKNET_SCENARIOS names (test/chosen-scenarios.ts).
const CHOSEN = chosenForTest();
import { HONEST_SKIP } from "./skip-reasons.js";

/** The whole suite on a healthy private engine: every scenario passes, or skips naming what is missing. */
describe("conformance run on a private engine", () => {
  let session: Session;
  let report: RunReport;

  beforeAll(async () => {
    session = await openSession({ engine: "private" });
    report = await runConformance(session, { scenarios: CHOSEN, concurrency: 4, timeoutMs: 120_000, strict: false });
  });
  afterAll(async () => {
    await session?.close();
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
      expect(result.evidence.every((e) => e.ok && e.how.length > 0), result.id).toBe(true);
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

  test("each scenario removed what it made; only the run's shared host observer remains until the end", async () => {
    const filters = { label: [`${RUN_LABEL}=${session.lab.runId}`] };
    const containers = await session.lab.docker.listContainers({ all: true, filters });
    expect(containers.map((c) => c.Labels[SCENARIO_LABEL])).toEqual(["shared"]);
    expect(await session.lab.docker.listNetworks({ filters })).toEqual([]);
    await session.lab.tearDown();
    expect(await session.lab.docker.listContainers({ all: true, filters })).toEqual([]);
  });
});
