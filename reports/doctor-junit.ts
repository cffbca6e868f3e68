import type { CheckResult } from "../harness/doctor/check.js";
import type { DoctorReport } from "../harness/doctor/doctor.js";
import { junitDocument, type JunitCase, type JunitSuite } from "./junit-document.js";

/** A finding's body: what was seen, where from, why it matters, how to fix it. */
export function findingText(result: CheckResult): string {
  return [
    ...result.seen.map((s) => `seen: ${s}`),
    ...(result.sources.length ? [`from: ${result.sources.join("; ")}`] : []),
    `why: ${result.why}`,
    `fix: ${result.fix}`,
    `ref: ${result.reference}`,
  ].join("\n");
}

/**
 * One testsuite "docknet.doctor", one testcase per check. Errors are failures
 * (they break connectivity or expose the host); warnings and information pass
 * with the finding in system-out, so a CI view shows them without failing on them.
 */
export function doctorJunitXml(report: DoctorReport): string {
  const suite: JunitSuite = {
    name: "docknet.doctor",
    timestamp: report.startedAt,
    timeMs: report.summary.durationMs,
    properties: [
      ["docknet.version", report.tool.version],
      ["engine", report.dockerHost],
      ["vantage", report.vantage],
    ],
    cases: report.results.map(caseOf),
  };
  return junitDocument("docknet doctor", [suite]);
}

function caseOf(result: CheckResult): JunitCase {
  const base = { name: `${result.id} ${result.title}`, classname: "docknet.doctor", timeMs: 0 };
  const reference = `ref: ${result.reference}`;
  switch (result.status) {
    case "ok":
      return { ...base, systemOut: [...result.seen.map((s) => `seen: ${s}`), reference].join("\n") };
    case "skipped":
      return {
        ...base,
        outcome: { kind: "skipped", message: result.reason ?? "skipped" },
        systemOut: `skipped: ${result.reason ?? "skipped"}\n${reference}`,
      };
    case "error":
      return {
        ...base,
        outcome: { kind: "error", message: result.reason ?? "the check broke", type: "DoctorError" },
        systemOut: reference,
      };
    case "finding":
      return result.severity === "error"
        ? {
            ...base,
            outcome: { kind: "failure", message: result.seen.join("; "), type: "error", text: findingText(result) },
          }
        : { ...base, systemOut: `${result.severity}: ${result.seen.join("; ")}\n${findingText(result)}` };
  }
}
