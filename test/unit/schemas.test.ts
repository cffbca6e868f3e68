import { describe, expect, test } from "vitest";
import type { RunReport, ScenarioResult } from "../../harness/results.js";
import { summarize } from "../../harness/results.js";
import { buildMatrix } from "../../harness/matrix.js";
import { doctorJsonReport, jsonReport, matrixJsonReport } from "../../reports/json.js";
import { diagnose, summarizeChecks } from "../../harness/doctor/doctor.js";
import { ALL_CHECKS } from "../../harness/doctor/catalog.js";
import { readFileSync } from "node:fs";
import type { Readings } from "../../harness/doctor/readings.js";
import { schemaErrors } from "../schemas.js";
import { ENGINE_FACTS } from "./engine-facts.js";

const base = { doc: "Bridge network driver", tags: [], attempt: 1 };
const results: ScenarioResult[] = [
  { ...base, id: "UB-01", title: "t", area: "user-bridge", status: "passed", durationMs: 812, evidence: [{ claim: "a", expected: "open", observed: "open", how: "docker exec x nc", ok: true }] },
  { ...base, id: "ISO-01", title: "t", area: "isolation", status: "failed", durationMs: 2100, reason: "r", evidence: [{ claim: "b", expected: "x", observed: "y", how: "h", raw: "out", ok: false }], versionKeys: [{ version: "28.0", source: "notes", applies: true }] },
  { ...base, id: "ISO-02", title: "t", area: "isolation", status: "skipped", durationMs: 0, reason: "engine has no default bridge network", evidence: [] },
];
const report: RunReport = {
  tool: { name: "docknet", version: "0.1.0" },
  runId: "abc123",
  startedAt: "2026-11-28T07:00:00.000Z",
  engine: { ...ENGINE_FACTS, description: "private dockerd 20.10.24" },
  strict: false,
  results,
  summary: summarize(results, 1000),
  vantage: "as root on this machine",
};

describe("JSON outputs follow the schemas in schemas/", () => {
  test("a run, a doctor audit and a matrix each validate, and say their kind", () => {
    const run = JSON.parse(jsonReport(report)) as { kind: string };
    expect(run.kind).toBe("docknet.run");
    expect(schemaErrors(run)).toEqual([]);
    const readings = JSON.parse(readFileSync(new URL("../fixtures/doctor/busy-engine-20.10.json", import.meta.url), "utf8")) as Readings;
    const checks = diagnose(readings, ALL_CHECKS);
    const doctor = JSON.parse(doctorJsonReport({ tool: { name: "docknet", version: "0.1.0" }, startedAt: report.startedAt, dockerHost: "unix:///x.sock", vantage: "v", results: checks, summary: summarizeChecks(checks, 5) }));
    expect(schemaErrors(doctor)).toEqual([]);
    const matrix = JSON.parse(matrixJsonReport(buildMatrix([{ spec: "20.10", report }, { spec: "29", problem: "would not start" }])));
    expect(schemaErrors(matrix)).toEqual([]);
  });

  test("the schemas refuse what breaks the contract: a failure without its reason, evidence without how, no kind", () => {
    const run = JSON.parse(jsonReport(report)) as { results: Array<Record<string, unknown>>; kind?: string };
    delete run.results[1]!.reason;
    expect(schemaErrors(run).join("\n")).toMatch(/\/results\/1 must have required property 'reason'/);
    const noHow = JSON.parse(jsonReport(report)) as { results: Array<{ evidence: Array<Record<string, unknown>> }> };
    delete noHow.results[0]!.evidence[0]!.how;
    expect(schemaErrors(noHow).join("\n")).toMatch(/must have required property 'how'/);
    expect(schemaErrors({ ...report })).toEqual(["no known kind: undefined"]);
  });
});
