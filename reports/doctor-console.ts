import { skipLines } from "./result-text.js";
import { createColors } from "picocolors";
import type { CheckResult, Severity } from "../harness/doctor/check.js";
import type { DoctorReport, DoctorSummary } from "../harness/doctor/doctor.js";
import { wantsColor } from "./console.js";

type Colors = ReturnType<typeof createColors>;

const HEADINGS: ReadonlyArray<{ severity: Severity; title: string; paint: (c: Colors, s: string) => string }> = [
  {
    severity: "error",
    title: "Errors: these break container networking or expose the host",
    paint: (c, s) => c.red(s),
  },
  { severity: "warn", title: "Warnings: likely problems and hardening gaps", paint: (c, s) => c.yellow(s) },
  { severity: "info", title: "Information", paint: (c, s) => c.cyan(s) },
];

function block(result: CheckResult, c: Colors): string {
  return [
    `  ${c.bold(result.id)} ${result.title}`,
    ...result.seen.map((s) => `      seen: ${s}`),
    ...(result.sources.length ? [c.dim(`      from: ${result.sources.join("; ")}`)] : []),
    `      why:  ${result.why}`,
    `      fix:  ${result.fix}`,
    c.dim(`      ref:  ${result.reference}`),
  ].join("\n");
}

/** "41 checks: 30 ok, 1 error, 2 warnings, 4 info, 4 skipped in 0.4s" */
export function doctorSummaryLine(summary: DoctorSummary): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${summary.checks} checks: ${summary.ok} ok, ${plural(summary.errors, "error")}, ${plural(summary.warnings, "warning")}, ${summary.infos} info, ${summary.skipped} skipped in ${(summary.durationMs / 1000).toFixed(1)}s`;
}

/** Findings grouped by severity, then what was skipped and why, then the summary line. */
export function doctorConsoleText(
  report: DoctorReport,
  options: { color?: boolean; verbose?: boolean; stream?: NodeJS.WriteStream } = {},
): string {
  const c = createColors(options.color ?? (options.stream ? wantsColor(options.stream) : false));
  const out: string[] = [`docknet doctor: ${report.dockerHost}; host seen from ${report.vantage}`];
  for (const heading of HEADINGS) {
    const found = report.results.filter((r) => r.status === "finding" && r.severity === heading.severity);
    if (found.length === 0) continue;
    // Information stays one line each unless asked for: it is context, not a problem to fix.
    const compact = heading.severity === "info" && !options.verbose;
    out.push(
      "",
      heading.paint(c, c.bold(heading.title)),
      ...found.map((r) => (compact ? `  ${c.bold(r.id)} ${r.seen.join("; ")}` : block(r, c))),
    );
  }
  const broken = report.results.filter((r) => r.status === "error");
  if (broken.length)
    out.push("", c.red(c.bold("Checks that broke")), ...broken.map((r) => `  ${r.id} ${r.title}: ${r.reason}`));
  const skipped = report.results.filter((r) => r.status === "skipped");
  if (skipped.length)
    out.push("", c.dim("Skipped (not passed), by reason:"), ...skipLines(skipped).map((line) => c.dim(line)));
  if (options.verbose) {
    const fine = report.results.filter((r) => r.status === "ok");
    out.push("", c.green("OK:"), ...fine.map((r) => `  ${r.id} ${r.title}: ${r.seen.join("; ")}`));
  }
  out.push("", doctorSummaryLine(report.summary), "");
  return out.join("\n");
}
