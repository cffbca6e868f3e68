// The figures of the engine-matrix issue: how fast a private engine of each version is ready once
// its binary is cached (target <= 3 s), and the full suite's wall time on each.
import { runChild } from "../dist/harness/child-run.js";
import { cachedEngines, systemEngine } from "../dist/harness/engine/engine-binaries.js";
import { startPrivateEngine } from "../dist/harness/engine/private-engine.js";

const starts = Number(process.env.DOCKNET_BENCH_STARTS ?? 5);
const suite = process.env.DOCKNET_BENCH_SUITE !== "0";
const engines = [await systemEngine(), ...cachedEngines().filter((e) => !e.corrupt)].filter(Boolean);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const engine of engines) {
  const times = [];
  for (let i = 0; i < starts; i++) {
    const started = performance.now();
    const running = await startPrivateEngine({ dockerd: engine.dockerd });
    times.push((performance.now() - started) / 1000);
    await running.stop();
  }
  let wall = "-";
  let verdicts = "-";
  if (suite) {
    const version = engine.version.replace(/[^0-9.].*$/, "");
    const started = performance.now();
    const run = await runChild(["--engine-version", version]);
    wall = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const s = run.report?.summary;
    verdicts = s
      ? `${s.passed}/${s.total} passed, ${s.failed + s.errors} failed, ${s.skipped} skipped`
      : `no report: ${run.lastLine}`;
  }
  rows.push([
    engine.version,
    `${engine.source}${engine.suite ? ` (${engine.suite})` : ""}`,
    `${median(times).toFixed(2)} s (min ${Math.min(...times).toFixed(2)}, max ${Math.max(...times).toFixed(2)})`,
    wall,
    verdicts,
  ]);
}
const header = ["engine", "from", `cold start, median of ${starts}`, "full suite wall", "verdicts"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  "));
console.log(
  `target: cold start <= 3 s on every engine; met: ${rows.every((r) => Number(r[2].split(" ")[0]) <= 3) ? "yes" : "no"}`,
);
