import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, onTestFinished, test } from "vitest";
import { failedScenarioIds } from "../../harness/commands/rerun.js";
import type { RunReport, ScenarioResult } from "../../harness/results.js";
import { runFailed, summarize } from "../../harness/results.js";
import { summaryLine } from "../../reports/console.js";
import { matrixEngineLabel } from "../../reports/result-text.js";
import { jsonReport } from "../../reports/json.js";
import { junitXml } from "../../reports/junit.js";
import { runMarkdown } from "../../reports/markdown.js";
import { githubAnnotations } from "../../reports/github-annotations.js";
import { ENGINE_FACTS } from "./engine-facts.js";

const base = { doc: "Bridge network driver", tags: [], attempt: 1 };
const results: ScenarioResult[] = [
  {
    ...base,
    id: "UB-01",
    title: "every port open",
    area: "user-bridge",
    status: "passed",
    durationMs: 812,
    evidence: [
      { claim: "web -> db:5432", expected: "open", observed: "open", how: "docker exec web nc -w 3 db 5432", ok: true },
    ],
  },
  {
    ...base,
    id: "ISO-01",
    title: "bridges are isolated",
    area: "isolation",
    status: "failed",
    durationMs: 2100,
    reason: "ping: expected no reply, observed reached",
    evidence: [
      {
        claim: "ping from A to B",
        expected: "anything but reached",
        observed: "reached",
        how: "docker exec a ping -c 1 -W 2 172.18.0.2",
        raw: "1 packets received",
        ok: false,
      },
    ],
  },
  {
    ...base,
    id: "ISO-02",
    title: "published only via host",
    area: "isolation",
    status: "skipped",
    durationMs: 0,
    reason: "engine has no default bridge network",
    evidence: [],
  },
  {
    ...base,
    id: "DNS-01",
    title: "embedded DNS",
    area: "dns",
    status: "error",
    durationMs: 40,
    reason: "(HTTP code 500) server error",
    evidence: [],
  },
];
const report: RunReport = {
  tool: { name: "docknet", version: "0.1.0" },
  runId: "abc123",
  startedAt: "2026-11-28T07:00:00.000Z",
  engine: {
    ...ENGINE_FACTS,
    description: "private dockerd 20.10.24 in network namespace docknet-x",
    engineVersion: "20.10.24",
    kernel: "6.18",
    networkDrivers: ["bridge", "host", "null"],
  },
  strict: false,
  results,
  summary: summarize(results, 38_200),
};

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

describe("JUnit report", () => {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(junitXml(report));
  const suites = asArray(parsed.testsuites.testsuite);

  test("one testsuite per area, in order of appearance", () => {
    expect(suites.map((s: { name: string }) => s.name)).toEqual([
      "docknet.user-bridge",
      "docknet.isolation",
      "docknet.dns",
    ]);
    const isolation = suites[1];
    expect(isolation).toMatchObject({ tests: "2", failures: "1", skipped: "1" });
  });

  test("testcases carry id and title, classname and time", () => {
    const cases = suites.flatMap((s: { testcase: unknown }) => asArray(s.testcase)) as Record<string, unknown>[];
    expect(cases.map((c) => [c.name, c.classname, c.time])).toEqual([
      ["UB-01 every port open", "docknet.user-bridge", "0.812"],
      ["ISO-01 bridges are isolated", "docknet.isolation", "2.1"],
      ["ISO-02 published only via host", "docknet.isolation", "0"],
      ["DNS-01 embedded DNS", "docknet.dns", "0.04"],
    ]);
  });

  test("a failure has a message and a body with the evidence", () => {
    const failed = asArray(suites[1].testcase)[0] as { failure: { message: string; type: string; "#text": string } };
    expect(failed.failure.message).toBe("ping: expected no reply, observed reached");
    expect(failed.failure.type).toBe("ConformanceFailure");
    expect(failed.failure["#text"]).toContain("observed: reached");
    expect(failed.failure["#text"]).toContain("how: docker exec a ping -c 1 -W 2 172.18.0.2");
  });

  test("a skip names its reason", () => {
    const skipped = asArray(suites[1].testcase)[1] as { skipped: { message: string } };
    expect(skipped.skipped.message).toBe("engine has no default bridge network");
  });

  test("a broken scenario is an error, not a failure", () => {
    const broken = asArray(suites[2].testcase)[0] as { error: { message: string } };
    expect(broken.error.message).toBe("(HTTP code 500) server error");
  });

  test("engine facts are suite properties", () => {
    const properties = asArray(suites[0].properties.property) as { name: string; value: string }[];
    expect(Object.fromEntries(properties.map((p) => [p.name, p.value]))).toMatchObject({
      "engine.version": "20.10.24",
      "engine.api-version": "1.41",
      "engine.kernel": "6.18",
      "engine.network-drivers": "bridge,host,null",
    });
  });
});

describe("summary and exit verdict", () => {
  test("the one-line summary", () =>
    expect(summaryLine(report)).toBe("1/4 passed, 1 failed, 1 broken, 1 skipped in 38.2s"));
  test("a failure or an error fails the run; skips only under --strict", () => {
    expect(runFailed(report)).toBe(true);
    const onlySkips = summarize([results[0]!, results[2]!], 1);
    expect(runFailed({ summary: onlySkips, strict: false })).toBe(false);
    expect(runFailed({ summary: onlySkips, strict: true })).toBe(true);
  });
  test("the JSON report carries the same results", () => {
    const json = JSON.parse(jsonReport(report));
    expect(json.schemaVersion).toBe(1);
    expect(json.results.map((r: ScenarioResult) => r.status)).toEqual(["passed", "failed", "skipped", "error"]);
  });
});

describe("console: skips grouped by reason", () => {
  test("one line a reason in the summary; a repeated reason points back to the first", async () => {
    const { ConsoleReporter } = await import("../../reports/console.js");
    const skip = (id: string, reason: string): ScenarioResult => ({
      ...base,
      id,
      title: `t ${id}`,
      area: "overlay",
      status: "skipped",
      durationMs: 0,
      reason,
      evidence: [],
    });
    const ipvs = "kernel has no CONFIG_IP_VS";
    const skips = [skip("OV-05", ipvs), skip("OV-15", ipvs), skip("OV-11", "kernel has no CONFIG_INET_ESP")];
    const sink = new PassThrough();
    let out = "";
    sink.on("data", (c: Buffer) => (out += c.toString()));
    const stream = sink as unknown as NodeJS.WriteStream;
    const reporter = new ConsoleReporter({ stream, total: 3, color: false });
    for (const result of skips) reporter.onEvent({ type: "finished", result });
    reporter.finish({ ...report, results: skips, summary: summarize(skips, 10) });
    expect(out.split("\n").filter((l) => l.includes(ipvs))).toEqual([
      "SKIP OV-05 t OV-05 (0.0s) — kernel has no CONFIG_IP_VS",
      "  OV-05, OV-15: kernel has no CONFIG_IP_VS",
    ]);
    expect(out).toMatch(/SKIP OV-15 t OV-15 \(0\.0s\) — as OV-05/);
    expect(out).toMatch(/ {2}OV-11: kernel has no CONFIG_INET_ESP/);
  });
});

describe("Markdown summary", () => {
  const markdown = runMarkdown({
    ...report,
    vantage: "as root on this machine",
    explanations: {
      "ISO-01": [
        {
          check: "D-HOST-02",
          severity: "warn",
          title: "br_netfilter",
          seen: ["net.bridge.bridge-nf-call-iptables = 0"],
          fix: "modprobe br_netfilter",
        },
      ],
    },
  });

  test("counts, then each failure with its evidence and likely cause", () => {
    expect(markdown).toContain("**1/4 passed, 1 failed, 1 broken, 1 skipped in 38.2s**");
    expect(markdown).toContain("| 1 | 1 | 1 | 1 |");
    expect(markdown).toContain("### ❌ ISO-01 bridges are isolated");
    expect(markdown).toContain(
      "| **FAIL** | ping from A to B | anything but reached | reached | `docker exec a ping -c 1 -W 2 172.18.0.2` |",
    );
    expect(markdown).toContain(
      "> **Likely cause** (docknet doctor D-HOST-02, warn): net.bridge.bridge-nf-call-iptables = 0",
    );
    expect(markdown).toContain("### 💥 DNS-01 embedded DNS");
    // Passing scenarios are counted, not listed.
    expect(markdown).not.toContain("UB-01");
  });

  test("skips grouped by reason, and the engine's facts", () => {
    expect(markdown).toContain("| ISO-02 | engine has no default bridge network |");
    expect(markdown).toContain("| version | 20.10.24 (API");
    expect(markdown).toContain("| commands on the engine's host | as root on this machine |");
  });
});

describe("--rerun-failed reads what did not pass from an earlier report", () => {
  const write = (name: string, text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "docknet-rerun-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  test("docknet's JSON and its JUnit name the same scenarios: failed and broken, not skipped or passed", () => {
    expect(failedScenarioIds(write("run.json", jsonReport(report)))).toEqual(["ISO-01", "DNS-01"]);
    expect(failedScenarioIds(write("junit.xml", junitXml(report))).sort()).toEqual(["DNS-01", "ISO-01"]);
    // A matrix's JSON: every engine's runs.
    expect(
      failedScenarioIds(
        write("matrix.json", JSON.stringify({ runs: [report, { results: [{ id: "PP-05", status: "failed" }] }] })),
      ),
    ).toEqual(["ISO-01", "DNS-01", "PP-05"]);
  });

  test("a report that is neither is a usage error, in one line", () => {
    expect(() => failedScenarioIds(write("x.json", "{ not json"))).toThrow(/neither docknet's JSON nor JUnit XML/);
    expect(() => failedScenarioIds(write("x.json", "{}"))).toThrow(/has "results"/);
    expect(() => failedScenarioIds(write("x.xml", "<html><body>no"))).toThrow(/not well-formed XML|no <testsuite>/);
    expect(() => failedScenarioIds("/nonexistent/report.json")).toThrow(/ENOENT/);
  });
});

describe("GitHub annotations", () => {
  test("one ::error per failed or broken scenario, with its first failing check, escaped as the runner wants", () => {
    expect(githubAnnotations(report).split("\n").filter(Boolean)).toEqual([
      "::error title=docknet ISO-01 bridges are isolated::ping from A to B: expected anything but reached, observed reached (docker exec a ping -c 1 -W 2 172.18.0.2)",
      "::error title=docknet DNS-01 embedded DNS::(HTTP code 500) server error",
    ]);
    const tricky = { ...results[1]!, title: "a: b, c", reason: "100%\nsure" };
    expect(githubAnnotations({ results: [tricky] })).toBe(
      "::error title=docknet ISO-01 a%3A b%2C c::ping from A to B: expected anything but reached, observed reached (docker exec a ping -c 1 -W 2 172.18.0.2)\n",
    );
    expect(githubAnnotations({ results: [{ ...tricky, evidence: [] }] })).toBe(
      "::error title=docknet ISO-01 a%3A b%2C c::100%25%0Asure\n",
    );
    expect(githubAnnotations({ results: [results[0]!] })).toBe("");
  });
});

test("a matrix column names a profile's firewall only when it is not the family's usual one", () => {
  const column = (family: string, firewall: string, mode = "rootful") => ({
    spec: "x",
    report: { engine: { engineVersion: "5.4.2+ds1", profile: { family, mode, firewall } } },
  });
  expect(matrixEngineLabel(column("podman", "netavark"))).toBe("podman 5.4.2");
  expect(matrixEngineLabel(column("docker", "iptables-nft"))).toBe("5.4.2");
  expect(matrixEngineLabel(column("docker", "iptables-legacy", "rootless"))).toBe("5.4.2 rootless iptables-legacy");
  expect(matrixEngineLabel({ spec: "podman-5.4" })).toBe("podman-5.4");
});
