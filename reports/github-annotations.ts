import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RunReport } from "../harness/results.js";

/**
 * GitHub Actions annotations: one `::error` per scenario that failed or broke,
 * titled with its id, saying its first failing check (claim, expected,
 * observed). Reads a run's JSON report only. Workflow-command values escape
 * %, CR and LF; property values also : and , (the runner's own rules).
 */
const escapeData = (text: string) => text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");

export function githubAnnotations(report: Pick<RunReport, "results">): string {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.status !== "failed" && r.status !== "error") continue;
    const check = r.evidence.find((e) => !e.ok);
    const said = check
      ? `${check.claim}: expected ${check.expected}, observed ${check.observed} (${check.how})`
      : (r.reason ?? r.status);
    lines.push(`::error title=${escapeProperty(`docknet ${r.id} ${r.title}`)}::${escapeData(said)}`);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

// As a program (the GitHub Action's step): `node github-annotations.js REPORT.json` prints the annotations.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write("usage: github-annotations REPORT.json\n");
    process.exit(2);
  }
  process.stdout.write(githubAnnotations(JSON.parse(readFileSync(path, "utf8")) as RunReport));
}
