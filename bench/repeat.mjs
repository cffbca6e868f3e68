// Issue 16's flake check: `docknet run --engine private --repeat N` over the single-host scenarios
// (DOCKNET_BENCH_REPEAT, default 10; a selection may follow on the command line), then, per
// scenario, whether every attempt got the same verdict. Prints the scenarios that disagree with
// their verdicts, the counts and the wall time.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repeat = Number(process.env.DOCKNET_BENCH_REPEAT ?? 10);
const selection = process.argv.slice(2).length ? process.argv.slice(2) : ["!overlay"];
const dir = mkdtempSync(join(tmpdir(), "docknet-bench-repeat-"));
try {
  const report = join(dir, "run.json");
  const started = performance.now();
  const run = spawnSync(
    process.execPath,
    ["dist/harness/cli.js", "run", "--engine", "private", "--repeat", String(repeat), "--json", report, ...selection],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const wall = (performance.now() - started) / 1000;
  if (![0, 1].includes(run.status ?? -1)) throw new Error(`docknet run exited ${run.status}`);
  const { results } = JSON.parse(readFileSync(report, "utf8"));
  const byScenario = new Map();
  for (const r of results) byScenario.set(r.id, [...(byScenario.get(r.id) ?? []), r]);
  const differing = [...byScenario].filter(([, attempts]) => new Set(attempts.map((a) => a.status)).size > 1);
  for (const [id, attempts] of differing) {
    console.log(
      `${id}: ${attempts.map((a) => `${a.attempt}:${a.status}${a.reason ? ` (${a.reason})` : ""}`).join("; ")}`,
    );
  }
  const same = results.filter((r) => !differing.some(([id]) => id === r.id)).length;
  console.log(`scenarios ${byScenario.size} × ${repeat} attempts = ${results.length} verdicts`);
  console.log(`verdicts the same as their scenario's every other attempt: ${same} of ${results.length}`);
  console.log(`scenarios whose attempts disagree: ${differing.length} (target 0)`);
  console.log(`wall ${wall.toFixed(1)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
