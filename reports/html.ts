import type { MatrixReport } from "../harness/matrix.js";
import type { RunReport, ScenarioResult } from "../harness/results.js";
import { summaryLine } from "./console.js";
import { skipsByReason } from "./result-text.js";

/**
 * One self-contained page for people: no script, no stylesheet or font from
 * anywhere, so it opens the same from a CI artifact, a mail or a file share.
 * Verdicts by area, each failure's evidence and likely cause, skips grouped by
 * reason, the engine's facts; for a matrix, the scenario × engine table.
 */

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; } h3 { margin-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
code { font: 13px ui-monospace, monospace; background: #f6f8fa; padding: .1rem .25rem; border-radius: 4px; word-break: break-all; }
.counts { display: flex; gap: 1rem; margin: 1rem 0; } .count { padding: .6rem 1rem; border-radius: 8px; background: #f6f8fa; min-width: 7rem; }
.count b { display: block; font-size: 1.8rem; }
.passed { color: #1a7f37; } .failed, .error { color: #cf222e; } .skipped { color: #9a6700; } .absent { color: #8c959f; }
.failure { border-left: 4px solid #cf222e; padding-left: 1rem; margin: 1.2rem 0; }
.cause { background: #fff8c5; padding: .5rem .8rem; border-radius: 6px; }
tr.bad td { background: #ffebe9; }
`;

const STATUS_WORD: Record<ScenarioResult["status"] | "absent", string> = {
  passed: "passed",
  failed: "FAILED",
  error: "broke",
  skipped: "skipped",
  absent: "–",
};

function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><style>${STYLE}</style></head>
<body>
${body.join("\n")}
</body></html>
`;
}

function counts(report: RunReport): string {
  const s = report.summary;
  const box = (cls: string, n: number, word: string) => `<div class="count ${cls}"><b>${n}</b>${word}</div>`;
  return `<div class="counts">${box("passed", s.passed, "passed")}${box("failed", s.failed, "failed")}${box("error", s.errors, "broke")}${box("skipped", s.skipped, "skipped")}</div>`;
}

function failure(report: RunReport, r: ScenarioResult): string {
  const rows = r.evidence.map(
    (e) =>
      `<tr class="${e.ok ? "" : "bad"}"><td>${e.ok ? "ok" : "<b>FAIL</b>"}</td><td>${escape(e.claim)}</td><td>${escape(e.expected)}</td><td>${escape(e.observed)}</td><td><code>${escape(e.how)}</code></td></tr>`,
  );
  const causes = (report.explanations?.[r.id] ?? []).map(
    (c) =>
      `<p class="cause"><b>Likely cause</b> (docknet doctor ${escape(c.check)}, ${c.severity}): ${escape(c.seen.join("; "))}<br>Fix: ${escape(c.fix)}</p>`,
  );
  return `<section class="failure" id="${escape(r.id)}"><h3 class="${r.status}">${escape(r.id)} ${escape(r.title)}</h3>
<p>${r.status === "error" ? "Broke" : "Failed"}: ${escape(r.reason ?? "")}<br>Doc: ${escape(r.doc)}</p>
${rows.length ? `<table><thead><tr><th></th><th>Claim</th><th>Expected</th><th>Observed</th><th>How</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : ""}
${causes.join("\n")}</section>`;
}

function byArea(results: readonly ScenarioResult[]): string[] {
  const areas = [...new Set(results.map((r) => r.area))];
  return areas.flatMap((area) => {
    const rows = results
      .filter((r) => r.area === area)
      .map(
        (r) =>
          `<tr><td>${escape(r.id)}</td><td>${escape(r.title)}</td><td class="${r.status}">${STATUS_WORD[r.status]}</td><td>${(r.durationMs / 1000).toFixed(1)} s</td></tr>`,
      );
    return [
      `<h3>${escape(area)}</h3>`,
      `<table><thead><tr><th>Scenario</th><th>Title</th><th>Verdict</th><th>Time</th></tr></thead><tbody>${rows.join("")}</tbody></table>`,
    ];
  });
}

function engineFacts(report: RunReport): string {
  const e = report.engine;
  const rows: Array<[string, string]> = [
    ["engine", e.description],
    ["version", `${e.engineVersion} (API ${e.apiVersion})`],
    ["profile", e.profile.description],
    ["kernel", e.kernel],
    ["network drivers", e.networkDrivers.join(", ")],
    ...(report.vantage ? [["commands on the engine's host", report.vantage] as [string, string]] : []),
    ...(e.iptablesBackend ? [["iptables", e.iptablesBackend] as [string, string]] : []),
    ["run", `${report.runId}, started ${report.startedAt}, docknet ${report.tool.version}`],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join("")}</table>`;
}

/** The page of one run. */
export function runHtml(report: RunReport): string {
  const failures = report.results.filter((r) => r.status === "failed" || r.status === "error");
  const skips = skipsByReason(report.results);
  return page(`docknet: ${summaryLine(report)}`, [
    "<h1>docknet run</h1>",
    `<p>${escape(summaryLine(report))}${report.engineLost ? ` — <b>${escape(report.engineLost)}</b>` : ""}</p>`,
    counts(report),
    ...(failures.length ? ["<h2>Failures</h2>", ...failures.map((r) => failure(report, r))] : []),
    "<h2>Verdicts by area</h2>",
    ...byArea(report.results),
    ...(skips.length
      ? [
          "<h2>Skipped, by reason</h2>",
          `<table><thead><tr><th>Scenarios</th><th>Reason</th></tr></thead><tbody>${skips.map((g) => `<tr><td>${escape(g.ids.join(", "))}</td><td>${escape(g.reason)}</td></tr>`).join("")}</tbody></table>`,
        ]
      : []),
    "<h2>Engine</h2>",
    engineFacts(report),
  ]);
}

/** The page of a matrix: the scenario × engine table (what differs first), then each engine's run. */
export function matrixHtml(matrix: MatrixReport): string {
  const labels = matrix.engines.map((e) => (e.report ? e.report.engine.engineVersion.replace(/[+~].*$/, "") : e.spec));
  const row = (r: MatrixReport["rows"][number]) =>
    `<tr><td>${escape(r.id)}</td><td>${escape(r.title)}</td>${matrix.engines.map((e) => `<td class="${r.cells[e.spec] ?? "absent"}">${STATUS_WORD[r.cells[e.spec] ?? "absent"]}</td>`).join("")}</tr>`;
  const changes = matrix.rows.flatMap((r) =>
    r.changes.map((c) => `<tr><td>${escape(r.id)}</td><td>${escape(c.version)}</td><td>${escape(c.source)}</td></tr>`),
  );
  return page(`docknet matrix: ${labels.join(", ")}`, [
    "<h1>docknet run --matrix</h1>",
    `<p>Engines: ${escape(labels.join(", "))}</p>`,
    ...matrix.engines
      .filter((e) => e.problem)
      .map((e) => `<p class="failed">${escape(e.spec)}: ${escape(e.problem!)}</p>`),
    "<h2>Scenario × engine</h2>",
    `<table id="matrix"><thead><tr><th>Scenario</th><th>Title</th>${labels.map((l) => `<th>${escape(l)}</th>`).join("")}</tr></thead><tbody>${[...matrix.rows.filter((r) => r.differs), ...matrix.rows.filter((r) => !r.differs)].map(row).join("")}</tbody></table>`,
    ...(changes.length
      ? [
          "<h2>What an upgrade changes</h2>",
          `<table><thead><tr><th>Scenario</th><th>From</th><th>Source</th></tr></thead><tbody>${changes.join("")}</tbody></table>`,
        ]
      : []),
    ...matrix.engines.flatMap((e, i) => (e.report ? [`<h2>${escape(labels[i]!)}</h2>`, counts(e.report)] : [])),
  ]);
}
