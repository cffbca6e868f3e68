import type { MatrixReport } from "../harness/matrix.js";
import type { RunReport, ScenarioResult } from "../harness/results.js";
import { summaryLine } from "./console.js";
import { conformanceVerdict } from "./conformance.js";
import { differenceLines, matrixEngineLabel, skipsByReason } from "./result-text.js";

/**
 * The run as a CI step summary ($GITHUB_STEP_SUMMARY): verdict counts, each
 * failure with its evidence and likely cause, skips grouped by reason, and
 * the engine's facts. Reads results only.
 */

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

const MARK: Record<ScenarioResult["status"], string> = { passed: "✅", failed: "❌", error: "💥", skipped: "⏭️" };

function failureSection(report: RunReport, r: ScenarioResult): string[] {
  const lines = [
    `### ${MARK[r.status]} ${r.id} ${cell(r.title)}`,
    "",
    `${r.status === "error" ? "Broke" : "Failed"}: ${cell(r.reason ?? "")}  `,
    `Doc: ${r.doc}`,
    "",
  ];
  if (r.evidence.length) {
    lines.push("| | Claim | Expected | Observed | How |", "|---|---|---|---|---|");
    for (const e of r.evidence)
      lines.push(
        `| ${e.ok ? "ok" : "**FAIL**"} | ${cell(e.claim)} | ${cell(e.expected)} | ${cell(e.observed)} | ${code(e.how)} |`,
      );
    lines.push("");
  }
  for (const cause of report.explanations?.[r.id] ?? []) {
    lines.push(
      `> **Likely cause** (docknet doctor ${cause.check}, ${cause.severity}): ${cell(cause.seen.join("; "))}  `,
      `> Fix: ${cell(cause.fix)}`,
      "",
    );
  }
  return lines;
}

/** The Markdown summary of one run. */
export function runMarkdown(report: RunReport): string {
  const s = report.summary;
  const lines = [
    "## docknet run",
    "",
    `**${summaryLine(report)}**${report.engineLost ? ` — ${cell(report.engineLost)}` : ""}`,
    "",
    `| ✅ passed | ❌ failed | 💥 broke | ⏭️ skipped |`,
    "|---|---|---|---|",
    `| ${s.passed} | ${s.failed} | ${s.errors} | ${s.skipped} |`,
    "",
  ];
  const { verdict, because } = conformanceVerdict(report);
  lines.push(`Conformance (${cell(report.engine.profile.description)}): **${verdict}**: ${cell(because)}`, "");
  const differences = differenceLines(report.results);
  if (differences.length)
    lines.push("## Differs from Docker, as documented", "", ...differences.map((d) => `-${d.slice(1)}`), "");
  const failures = report.results.filter((r) => r.status === "failed" || r.status === "error");
  if (failures.length) lines.push("## Failures", "", ...failures.flatMap((r) => failureSection(report, r)));
  const skips = skipsByReason(report.results);
  if (skips.length) {
    lines.push("## Skipped, by reason", "", "| Scenarios | Reason |", "|---|---|");
    for (const { reason, ids } of skips) lines.push(`| ${ids.join(", ")} | ${cell(reason)} |`);
    lines.push("");
  }
  const e = report.engine;
  lines.push(
    "## Engine",
    "",
    "| | |",
    "|---|---|",
    `| engine | ${cell(e.description)} |`,
    `| version | ${e.engineVersion} (API ${e.apiVersion}) |`,
    `| profile | ${cell(e.profile.description)} |`,
    `| kernel | ${cell(e.kernel)} |`,
    `| network drivers | ${e.networkDrivers.join(", ")} |`,
    ...(report.vantage ? [`| commands on the engine's host | ${cell(report.vantage)} |`] : []),
    ...(e.iptablesBackend ? [`| iptables | ${e.iptablesBackend} |`] : []),
    `| run | ${report.runId}, started ${report.startedAt}, docknet ${report.tool.version} |`,
    "",
  );
  return lines.join("\n");
}

/** The Markdown summary of a matrix: what changes between the engines first, then each engine's counts. */
export function matrixMarkdown(matrix: MatrixReport): string {
  const labels = matrix.engines.map(matrixEngineLabel);
  const lines = ["## docknet run --matrix", "", `Engines: ${labels.join(", ")}`, ""];
  for (const en of matrix.engines) if (en.problem) lines.push(`- ${en.spec}: ${cell(en.problem)}`);
  const differing = matrix.rows.filter((r) => r.differs);
  if (differing.length) {
    lines.push(
      "### Verdicts that differ between engines",
      "",
      `| Scenario | ${labels.join(" | ")} |`,
      `|---|${labels.map(() => "---").join("|")}|`,
    );
    for (const row of differing)
      lines.push(
        `| **${row.id}** ${cell(row.title)} | ${matrix.engines.map((en) => MARK[row.cells[en.spec] as ScenarioResult["status"]] ?? "–").join(" | ")} |`,
      );
    lines.push("");
  } else lines.push("Every scenario has the same verdict on every engine.", "");
  const changed = matrix.rows.filter((r) => r.changes.length);
  if (changed.length) {
    const named = (specs: readonly string[]) =>
      specs.map((sp) => labels[matrix.engines.findIndex((en) => en.spec === sp)]).join(", ");
    lines.push(
      "### What an upgrade changes",
      "",
      "| Scenario | From | Source | On | Not on |",
      "|---|---|---|---|---|",
    );
    for (const row of changed)
      for (const c of row.changes)
        lines.push(`| ${row.id} | ${c.version} | ${cell(c.source)} | ${named(c.on)} | ${named(c.off)} |`);
    lines.push("");
  }
  lines.push(
    "### Each engine",
    "",
    "| Engine | Profile | Passed | Failed | Skipped | Conformance |",
    "|---|---|---|---|---|---|",
  );
  matrix.engines.forEach((en, i) =>
    lines.push(
      en.report
        ? `| ${labels[i]} | ${cell(en.report.engine.profile.description)} | ${en.report.summary.passed} | ${en.report.summary.failed + en.report.summary.errors} | ${en.report.summary.skipped} | ${conformanceVerdict(en.report).verdict} |`
        : `| ${labels[i]} | | did not run | | | |`,
    ),
  );
  lines.push("");
  const differences = matrix.engines.flatMap((en, i) =>
    en.report ? differenceLines(en.report.results).map((d) => `- ${labels[i]}:${d.slice(1)}`) : [],
  );
  if (differences.length) lines.push("### Differs from Docker, as documented", "", ...differences, "");
  return lines.join("\n");
}
