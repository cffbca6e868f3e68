import type { Explanation, RunReport, ScenarioResult } from "../harness/results.js";
import { junitDocument, type JunitCase, type JunitSuite } from "./junit-document.js";
import { evidenceText, explanationText } from "./result-text.js";

/**
 * One testsuite per area, one testcase per scenario: name "<ID> <title>",
 * classname "docknet.<area>", time always set; failures carry the evidence,
 * skips their reason; engine facts are suite properties. Several reports (an
 * engine matrix) give suites named "docknet.<area>@<engine version>".
 */
export function junitXml(reports: RunReport | readonly RunReport[]): string {
  const all = Array.isArray(reports) ? (reports as readonly RunReport[]) : [reports as RunReport];
  return junitDocument(
    "docknet",
    all.flatMap((report) => suitesOf(report, all.length > 1 ? `@${report.engine.engineVersion}` : "")),
  );
}

function suitesOf(report: RunReport, suffix: string): JunitSuite[] {
  const areas = [...new Set(report.results.map((r) => r.area))];
  return areas.map((area) => {
    const results = report.results.filter((r) => r.area === area);
    return {
      name: `docknet.${area}${suffix}`,
      timestamp: report.startedAt,
      timeMs: results.reduce((sum, r) => sum + r.durationMs, 0),
      properties: engineProperties(report),
      cases: results.map((result) => caseOf(result, report.explanations?.[result.id] ?? [])),
    };
  });
}

function engineProperties(report: RunReport): Array<[string, string]> {
  const engine = report.engine;
  return [
    ["docknet.version", report.tool.version],
    ["docknet.run", report.runId],
    ["engine", engine.description],
    ["engine.version", engine.engineVersion],
    ["engine.api-version", engine.apiVersion],
    ["engine.kernel", engine.kernel],
    ["engine.os", engine.os],
    ["engine.profile", engine.profile.description],
    ["engine.network-drivers", engine.networkDrivers.join(",")],
    // What the kernel lacks, by feature: the facts behind "kernel has no CONFIG_…" skips.
    ...Object.entries(engine.kernelMissing ?? {}).map(([feature, missing]): [string, string] => [
      `kernel.${feature}`,
      missing.length ? `missing ${missing.join(",")}` : "yes",
    ]),
    ...(engine.cluster
      ? ([
          ["multi-host", engine.cluster.description],
          ["multi-host.nodes", String(engine.cluster.nodes)],
        ] as Array<[string, string]>)
      : []),
    ...(report.vantage ? ([["vantage", report.vantage]] as Array<[string, string]>) : []),
    ...(report.kernelVm
      ? ([
          [
            "kernel-vm",
            `${report.kernelVm.kernelPackage} (${report.kernelVm.release}), QEMU ${report.kernelVm.accelerator}`,
          ],
        ] as Array<[string, string]>)
      : []),
    ...(report.timeScale ? ([["time-scale", String(report.timeScale)]] as Array<[string, string]>) : []),
  ];
}

function caseOf(result: ScenarioResult, causes: readonly Explanation[]): JunitCase {
  const base = {
    name: `${result.id} ${result.title}${result.attempt > 1 ? ` (repeat ${result.attempt})` : ""}`,
    classname: `docknet.${result.area}`,
    timeMs: result.durationMs,
  };
  // Where the behaviour is documented leads the text: junit-10 allows no properties on a testcase.
  const body = [`doc: ${result.doc}`, evidenceText(result.evidence), causes.length ? explanationText(causes) : ""]
    .filter(Boolean)
    .join("\n\n");
  switch (result.status) {
    case "failed":
      return {
        ...base,
        outcome: {
          kind: "failure",
          message: result.reason ?? "failed",
          type: "ConformanceFailure",
          text: `${result.reason ?? ""}\n\n${body}`,
        },
      };
    case "error":
      return {
        ...base,
        outcome: {
          kind: "error",
          message: result.reason ?? "error",
          type: "HarnessError",
          text: `${result.reason ?? ""}\n\n${body}`,
        },
      };
    case "skipped":
      return {
        ...base,
        outcome: { kind: "skipped", message: result.reason ?? "skipped" },
        systemOut: `skipped: ${result.reason ?? "skipped"}\ndoc: ${result.doc}`,
      };
    case "passed":
      return { ...base, systemOut: body };
  }
}
