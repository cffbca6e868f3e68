import { createRequire } from "node:module";
import type { Builder } from "junit-report-builder";
import type { Explanation, RunReport, ScenarioResult } from "../harness/results.js";
import { evidenceText, explanationText } from "./result-text.js";

// The package is CommonJS whose module.exports is the builder, while its types declare an ESM
// default export; under NodeNext the two disagree, so load it the CommonJS way.
const builder = createRequire(import.meta.url)("junit-report-builder") as Builder;


/**
 * One testsuite per area, one testcase per scenario: name "<ID> <title>",
 * classname "docknet.<area>", time always set; failures carry the evidence,
 * skips their reason; engine facts are suite properties. Several reports (an
 * engine matrix) give suites named "docknet.<area>@<engine version>".
 */
export function junitXml(reports: RunReport | readonly RunReport[]): string {
  const junit = newJunit();
  const all = Array.isArray(reports) ? (reports as readonly RunReport[]) : [reports as RunReport];
  for (const report of all) addSuites(junit, report, all.length > 1 ? `@${report.engine.engineVersion}` : "");
  return junit.build();
}

function addSuites(junit: ReturnType<typeof newJunit>, report: RunReport, suffix: string): void {
  const areas = [...new Set(report.results.map((r) => r.area))];
  for (const area of areas) {
    const results = report.results.filter((r) => r.area === area);
    const suite = junit
      .testSuite()
      .name(`docknet.${area}${suffix}`)
      .timestamp(report.startedAt)
      .time(seconds(results.reduce((sum, r) => sum + r.durationMs, 0)))
      .property("docknet.version", report.tool.version)
      .property("docknet.run", report.runId)
      .property("engine", report.engine.description)
      .property("engine.version", report.engine.engineVersion)
      .property("engine.api-version", report.engine.apiVersion)
      .property("engine.kernel", report.engine.kernel)
      .property("engine.os", report.engine.os)
      .property("engine.network-drivers", report.engine.networkDrivers.join(","));
    // What the kernel lacks, by feature: the facts behind "kernel has no CONFIG_…" skips.
    for (const [feature, missing] of Object.entries(report.engine.kernelMissing ?? {})) {
      suite.property(`kernel.${feature}`, missing.length ? `missing ${missing.join(",")}` : "yes");
    }
    if (report.engine.cluster) suite.property("multi-host", report.engine.cluster.description).property("multi-host.nodes", String(report.engine.cluster.nodes));
    for (const result of results) addCase(suite, result, report.explanations?.[result.id] ?? []);
  }
}

/** Seconds with millisecond precision, as JUnit consumers expect. */
export function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

type Suite = ReturnType<Builder["testSuite"]>;
type TestCase = ReturnType<Suite["testCase"]>;

/** Marks a case skipped with its reason as the message attribute, which CI views show. */
export function markSkipped(testCase: TestCase, reason: string): void {
  testCase.skipped().standardOutput(`skipped: ${reason}`);
  // junit-report-builder writes <skipped/> with no message; add it when the element is built.
  const build = testCase.build.bind(testCase);
  testCase.build = (parent: Parameters<typeof build>[0]) => {
    const element = build(parent);
    const skipped = (element as unknown as { children: { name?: string; att(k: string, v: string): void }[] }).children.find(
      (child) => child.name === "skipped",
    );
    skipped?.att("message", reason);
    return element;
  };
}

/** A fresh JUnit document builder. */
export function newJunit(): ReturnType<Builder["newBuilder"]> {
  return builder.newBuilder();
}

function addCase(suite: Suite, result: ScenarioResult, causes: readonly Explanation[]): void {
  const name = `${result.id} ${result.title}${result.attempt > 1 ? ` (repeat ${result.attempt})` : ""}`;
  const testCase = suite.testCase().className(`docknet.${result.area}`).name(name).time(seconds(result.durationMs));
  testCase.property("docknet.id", result.id).property("docknet.doc", result.doc);
  const body = `${evidenceText(result.evidence)}${causes.length ? `\n\n${explanationText(causes)}` : ""}`;
  switch (result.status) {
    case "failed":
      testCase.failure(result.reason ?? "failed", "ConformanceFailure").stacktrace(`${result.reason ?? ""}\n\n${body}`);
      break;
    case "error":
      testCase.error(result.reason ?? "error", "HarnessError", `${result.reason ?? ""}\n\n${body}`);
      break;
    case "skipped":
      markSkipped(testCase, result.reason ?? "skipped");
      break;
    case "passed":
      if (body) testCase.standardOutput(body);
      break;
  }
}
