import type { CheckResult } from "../harness/doctor/check.js";
import type { DoctorReport } from "../harness/doctor/doctor.js";
import { markSkipped, newJunit, seconds } from "./junit.js";

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
  const junit = newJunit();
  const suite = junit
    .testSuite()
    .name("docknet.doctor")
    .timestamp(report.startedAt)
    .time(seconds(report.summary.durationMs))
    .property("docknet.version", report.tool.version)
    .property("engine", report.dockerHost)
    .property("vantage", report.vantage);
  for (const result of report.results) {
    const testCase = suite.testCase().className("docknet.doctor").name(`${result.id} ${result.title}`).time(0);
    testCase.property("docknet.reference", result.reference);
    switch (result.status) {
      case "ok":
        testCase.standardOutput(result.seen.map((s) => `seen: ${s}`).join("\n"));
        break;
      case "skipped":
        markSkipped(testCase, result.reason ?? "skipped");
        break;
      case "error":
        testCase.error(result.reason ?? "the check broke", "DoctorError");
        break;
      case "finding":
        if (result.severity === "error") testCase.failure(result.seen.join("; "), "error").stacktrace(findingText(result));
        else testCase.standardOutput(`${result.severity}: ${result.seen.join("; ")}\n${findingText(result)}`);
        break;
    }
  }
  return junit.build();
}
