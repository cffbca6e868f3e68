import type { MatrixReport } from "../harness/matrix.js";
import { differenceLines, matrixEngineLabel } from "./result-text.js";

const SHORT: Record<string, string> = { passed: "pass", failed: "FAIL", skipped: "skip", error: "ERR", absent: "-" };

/**
 * The matrix as a table: scenarios whose verdict differs between engines
 * first (what an upgrade would change), then a count of the ones that agree.
 */
export function matrixText(matrix: MatrixReport, options: { all?: boolean } = {}): string {
  const labels = matrix.engines.map(matrixEngineLabel);
  const width = Math.max(8, ...labels.map((l) => l.length + 2));
  const header = `${"scenario".padEnd(9)}${labels.map((l) => l.padEnd(width)).join("")}title`;
  const line = (row: MatrixReport["rows"][number]) =>
    `${row.id.padEnd(9)}${matrix.engines.map((e) => SHORT[row.cells[e.spec] ?? "absent"]!.padEnd(width)).join("")}${row.title}`;
  const differing = matrix.rows.filter((r) => r.differs);
  const same = matrix.rows.filter((r) => !r.differs);
  const out = [`Engine matrix: ${labels.join(", ")}`, ""];
  for (const e of matrix.engines) if (e.problem) out.push(`${e.spec}: ${e.problem}`);
  if (differing.length) out.push("Verdicts that differ between engines:", header, ...differing.map(line), "");
  else out.push("Every scenario has the same verdict on every engine.", "");
  const changed = matrix.rows.filter((r) => r.changes.length);
  if (changed.length) {
    const named = (specs: readonly string[]) =>
      specs.map((s) => labels[matrix.engines.findIndex((e) => e.spec === s)]).join(", ");
    out.push("Behaviour that changes between these engines (what an upgrade changes):");
    for (const row of changed) {
      for (const c of row.changes)
        out.push(`  ${row.id.padEnd(8)} from ${c.version} (${c.source}): ${named(c.on)}; not before: ${named(c.off)}`);
    }
    out.push("");
  }
  // Where a profile differs from Docker as its own documentation says: expected there, and listed.
  const differences = matrix.engines.flatMap((e, i) =>
    e.report ? differenceLines(e.report.results).map((line) => `  ${labels[i]}:${line.slice(1)}`) : [],
  );
  if (differences.length) out.push("Differs from Docker, as documented:", ...differences, "");
  if (options.all && same.length) out.push("The same on every engine:", header, ...same.map(line), "");
  else if (same.length)
    out.push(
      `${same.length} scenario(s) have the same verdict on every engine (${[...new Set(same.map((r) => SHORT[Object.values(r.cells)[0]!]))].join("/")}).`,
    );
  const totals = matrix.engines.map((e, i) =>
    e.report
      ? `${labels[i]}: ${e.report.summary.passed}/${e.report.summary.total} passed`
      : `${labels[i]}: did not run`,
  );
  out.push(totals.join("; "), "");
  return out.join("\n");
}
