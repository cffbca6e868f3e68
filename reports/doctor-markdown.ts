import type { CheckResult } from "../harness/doctor/check.js";
import type { DoctorReport } from "../harness/doctor/doctor.js";
import { doctorSummaryLine } from "./doctor-console.js";

const ICON: Record<string, string> = { error: "❌", warn: "⚠️", info: "ℹ️", ok: "✅", skipped: "⏭️", broken: "💥" };

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function statusOf(r: CheckResult): string {
  if (r.status === "finding") return `${ICON[r.severity!]} ${r.severity}`;
  return r.status === "error" ? `${ICON.broken} broke` : `${ICON[r.status]} ${r.status}`;
}

/** A Markdown summary for a CI step summary ($GITHUB_STEP_SUMMARY): findings first, with their fixes. */
export function doctorMarkdown(report: DoctorReport): string {
  const findings = report.results.filter((r) => r.status === "finding" || r.status === "error");
  const lines = [
    "## docknet doctor",
    "",
    `**${doctorSummaryLine(report.summary)}** — engine \`${report.dockerHost}\`, host seen from ${report.vantage}.`,
    "",
  ];
  if (findings.length) {
    lines.push("| | Check | Seen | Fix |", "|---|---|---|---|");
    for (const r of findings)
      lines.push(
        `| ${statusOf(r)} | **${r.id}** ${cell(r.title)} | ${cell(r.seen.join("; ") || r.reason || "")} | ${cell(r.fix)} |`,
      );
    lines.push("");
  }
  lines.push("<details><summary>Every check</summary>", "", "| | Check | Seen |", "|---|---|---|");
  for (const r of report.results)
    lines.push(`| ${statusOf(r)} | **${r.id}** ${cell(r.title)} | ${cell(r.seen.join("; ") || r.reason || "")} |`);
  lines.push("", "</details>", "");
  return lines.join("\n");
}
