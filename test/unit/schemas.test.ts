import { describe, expect, test } from "vitest";
import type { RunReport, ScenarioResult } from "../../harness/results.js";
import { summarize } from "../../harness/results.js";
import { buildMatrix } from "../../harness/matrix.js";
import {
  doctorJsonReport,
  engineJson,
  enginesJson,
  jsonReport,
  labsJson,
  matrixJsonReport,
  scenariosJson,
} from "../../reports/json.js";
import { ALL_SCENARIOS } from "../../scenarios/index.js";
import { missingKernelOptions } from "../../harness/kernel-config.js";
import { diagnose, summarizeChecks } from "../../harness/doctor/doctor.js";
import { ALL_CHECKS } from "../../harness/doctor/catalog.js";
import { readFileSync } from "node:fs";
import type { Readings } from "../../harness/doctor/readings.js";
import { junit10Errors } from "../junit-10.js";
import { schemaErrors } from "../schemas.js";
import { junitXml } from "../../reports/junit.js";
import { doctorJunitXml } from "../../reports/doctor-junit.js";
import { ENGINE_FACTS } from "./engine-facts.js";

const base = { doc: "Bridge network driver", tags: [], attempt: 1 };
const results: ScenarioResult[] = [
  {
    ...base,
    id: "UB-01",
    title: "t",
    area: "user-bridge",
    status: "passed",
    durationMs: 812,
    evidence: [{ claim: "a", expected: "open", observed: "open", how: "docker exec x nc", ok: true }],
  },
  {
    ...base,
    id: "ISO-01",
    title: "t",
    area: "isolation",
    status: "failed",
    durationMs: 2100,
    reason: "r",
    evidence: [{ claim: "b", expected: "x", observed: "y", how: "h", raw: "out", ok: false }],
    versionKeys: [{ version: "28.0", source: "notes", applies: true }],
  },
  {
    ...base,
    id: "ISO-02",
    title: "t",
    area: "isolation",
    status: "skipped",
    durationMs: 0,
    reason: "engine has no default bridge network",
    evidence: [],
  },
];
const report: RunReport = {
  tool: { name: "docknet", version: "0.1.0" },
  runId: "abc123",
  startedAt: "2026-11-28T07:00:00.000Z",
  engine: { ...ENGINE_FACTS, description: "private dockerd 20.10.24" },
  strict: false,
  results,
  summary: { ...summarize(results, 1000), containersStarted: 3 },
  vantage: "as root on this machine",
};

describe("JSON outputs follow the schemas in schemas/", () => {
  test("a run, a doctor audit and a matrix each validate, and say their kind", () => {
    const run = JSON.parse(jsonReport(report)) as { kind: string };
    expect(run.kind).toBe("docknet.run");
    expect(schemaErrors(run)).toEqual([]);
    const readings = JSON.parse(
      readFileSync(new URL("../fixtures/doctor/busy-engine-20.10.json", import.meta.url), "utf8"),
    ) as Readings;
    const checks = diagnose(readings, ALL_CHECKS);
    const doctor = JSON.parse(
      doctorJsonReport({
        tool: { name: "docknet", version: "0.1.0" },
        startedAt: report.startedAt,
        dockerHost: "unix:///x.sock",
        vantage: "v",
        results: checks,
        summary: summarizeChecks(checks, 5),
      }),
    );
    expect(schemaErrors(doctor)).toEqual([]);
    const matrix = JSON.parse(
      matrixJsonReport(
        buildMatrix([
          { spec: "20.10", report },
          { spec: "29", problem: "would not start" },
        ]),
      ),
    );
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

describe("the listings say their kind too: list, engine list, engine info, lab up/status", () => {
  const lab = {
    id: "ab12",
    ownerPid: 42,
    held: true,
    hubNetns: "dn-lab-ab12",
    bridge: "dnlab-ab12",
    subnet: "10.251.0.0/24",
    startedAt: report.startedAt,
    nodes: ["node1", "node2"].map((name, i) => ({
      name,
      role: i ? ("worker" as const) : ("manager" as const),
      address: `10.251.0.${i + 2}`,
      dockerHost: `unix:///run/docknet/${name}.sock`,
      engineId: `e${i}`,
      netns: `dn-${name}`,
    })),
  };
  const documents = {
    scenarios: scenariosJson(
      ALL_SCENARIOS.map((s) => ({
        id: s.id,
        title: s.title,
        area: s.area,
        doc: s.doc,
        tags: s.tags,
        requires: s.requires.map((r) => r.name),
        exclusive: Boolean(s.exclusive),
      })),
    ),
    engines: enginesJson("/root/.cache/docknet/dockerd", [
      { version: "28.5.2+dfsg4", dockerd: "/usr/sbin/dockerd", source: "system" },
      {
        version: "20.10.24",
        dockerd: "/c/dockerd",
        source: "cache",
        suite: "sid",
        package: "docker.io",
        corrupt: "bin/dockerd changed",
      },
    ]),
    engine: engineJson("private dockerd 20.10.24", {
      ...ENGINE_FACTS,
      kernelMissing: { ...missingKernelOptions(new Map()), ipvlan: ["CONFIG_IPVLAN"] },
    }),
    labs: labsJson([lab]),
    status: labsJson([{ ...lab, answers: ["ok", "connect ENOENT"] }]),
  };

  test.each(Object.entries(documents))("%s validates against its kind's schema", (_name, text) => {
    const parsed = JSON.parse(text) as { kind: string; schemaVersion: number };
    expect(parsed.kind).toMatch(/^docknet\.(scenarios|engines|engine|labs)$/);
    expect(schemaErrors(parsed)).toEqual([]);
  });

  test("and refuse a bad one: a scenario without its doc, a lab of one node, an engine without its version", () => {
    const scenarios = JSON.parse(documents.scenarios) as { scenarios: Array<Record<string, unknown>> };
    delete scenarios.scenarios[0]!.doc;
    expect(schemaErrors(scenarios).join("\n")).toMatch(/\/scenarios\/0 must have required property 'doc'/);
    const labs = JSON.parse(documents.labs) as { labs: Array<{ nodes: unknown[] }> };
    labs.labs[0]!.nodes.pop();
    expect(schemaErrors(labs).join("\n")).toMatch(/\/labs\/0\/nodes must NOT have fewer than 2 items/);
    const engine = JSON.parse(documents.engine) as Record<string, unknown>;
    delete engine.engineVersion;
    expect(schemaErrors(engine).join("\n")).toMatch(/must have required property 'engineVersion'/);
  });
});

describe("JUnit outputs follow Jenkins xunit's junit-10.xsd", () => {
  const readings = JSON.parse(
    readFileSync(new URL("../fixtures/doctor/busy-engine-20.10.json", import.meta.url), "utf8"),
  ) as Readings;
  const checks = diagnose(readings, ALL_CHECKS);

  test("a run, an engine matrix and a doctor audit are accepted, with skips, failures and findings among them", () => {
    const errored: ScenarioResult = {
      ...base,
      id: "DNS-01",
      title: "t",
      area: "dns",
      status: "error",
      durationMs: 5,
      reason: "(HTTP code 500)\u0007 server error",
      evidence: [{ claim: "c", expected: "e", observed: "bell \u0007 and NUL \u0000", how: "h", ok: false }],
    };
    const withError = { ...report, results: [...results, errored], summary: summarize([...results, errored], 1000) };
    expect(junit10Errors(junitXml(withError))).toEqual([]);
    expect(
      junit10Errors(junitXml([report, { ...report, engine: { ...report.engine, engineVersion: "28.5.2" } }])),
    ).toEqual([]);
    const doctor = doctorJunitXml({
      tool: { name: "docknet", version: "0.1.0" },
      startedAt: report.startedAt,
      dockerHost: "unix:///x.sock",
      vantage: "v",
      results: checks,
      summary: summarizeChecks(checks, 5),
    });
    expect(checks.map((c) => c.status)).toEqual(expect.arrayContaining(["ok", "finding", "skipped"]));
    expect(junit10Errors(doctor)).toEqual([]);
  });

  test("the rules refuse what that schema refuses: properties in a testcase, testsuites@skipped, a testcase without a name", () => {
    const xml = junitXml(report);
    expect(junit10Errors(xml.replace("<testsuites ", '<testsuites skipped="1" '))).toEqual([
      'testsuites: <testsuites> may not carry skipped="…"',
    ]);
    expect(
      junit10Errors(xml.replace("</testcase>", '<properties><property name="a" value="b"/></properties></testcase>')),
    ).toEqual(["testsuites/testsuite/testcase: <properties> is not allowed inside <testcase>"]);
    expect(junit10Errors(xml.replace(/<testcase name="[^"]*"/, "<testcase"))).toEqual([
      'testsuites/testsuite/testcase: <testcase> needs name="…"',
    ]);
    expect(junit10Errors("<testsuites><testsuite></testsuites>")[0]).toMatch(/^not well-formed/);
  });

  test("a skip says why in its message; a failure's body holds the evidence and the documentation", () => {
    const xml = junitXml(report);
    expect(xml).toContain('<skipped message="engine has no default bridge network"/>');
    expect(xml).toMatch(/<failure message="r" type="ConformanceFailure">r\s+doc: Bridge network driver/);
  });
});
