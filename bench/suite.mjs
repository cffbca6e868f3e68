// The figures of the foundation issue, measured rather than asserted in a test.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { openSession, runConformance } from "../dist/harness/session.js";
import { ALL_SCENARIOS } from "../dist/scenarios/index.js";

const concurrency = Number(process.env.DOCKNET_BENCH_CONCURRENCY ?? 4);
const samples = Number(process.env.DOCKNET_BENCH_SAMPLES ?? 7);

const session = await openSession({ engine: "private" });
try {
  const env = { ...process.env, DOCKER_HOST: session.engine.dockerHost };
  const runTimes = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    execFileSync("docker", ["run", "--rm", session.lab.image, "true"], { env, stdio: "ignore" });
    runTimes.push((performance.now() - started) / 1000);
  }
  runTimes.sort((a, b) => a - b);
  const median = runTimes[Math.floor(runTimes.length / 2)];

  // The engine's own throughput bounds any harness: 8 lifecycles at once, per container.
  const parallel = 8;
  const burstStart = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, () =>
      promisify(execFile)("docker", ["run", "--rm", session.lab.image, "true"], { env }),
    ),
  );
  const perContainerAtBest = (performance.now() - burstStart) / 1000 / parallel;

  const report = await runConformance(session, {
    scenarios: ALL_SCENARIOS,
    concurrency,
    timeoutMs: 120_000,
    strict: false,
  });
  const wall = report.summary.durationMs / 1000;
  // Every container the run started: on the engines its lanes started too (daemon.json, exclusive), whose starts the wall includes.
  const containers = report.summary.containersStarted;
  const onSessionEngine = session.lab.containersStarted;
  const ratio = wall / ((containers * median) / 2);
  const rows = [
    ["engine", session.engine.description],
    [
      "scenarios",
      `${report.summary.total} (${report.summary.passed} passed, ${report.summary.failed + report.summary.errors} failed, ${report.summary.skipped} skipped)`,
    ],
    ["concurrency", String(concurrency)],
    [
      "containers started",
      `${containers} (${onSessionEngine} on the session's engine, ${containers - onSessionEngine} on the engines of its lanes)`,
    ],
    [`median docker run --rm probe true (${samples} runs)`, `${median.toFixed(3)} s`],
    [`engine throughput (${parallel} docker run --rm at once)`, `${perContainerAtBest.toFixed(3)} s per container`],
    ["ratio floor (throughput / (median / 2))", (perContainerAtBest / (median / 2)).toFixed(2)],
    ["wall", `${wall.toFixed(1)} s`],
    ["ratio wall / (containers x median / 2)", `${ratio.toFixed(2)} (target <= 1.5)`],
    // Issue 16's cost model: each container at the engine's own one-at-a-time price, both terms shown.
    [
      "ratio wall / (containers x median)",
      `${(wall / (containers * median)).toFixed(2)} = ${wall.toFixed(1)} s / (${containers} x ${median.toFixed(3)} s) (target <= 1.3)`,
    ],
    ["wall of every single-host scenario", `${wall.toFixed(1)} s (target <= 90 s)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
  for (const r of report.results.filter((x) => x.status === "failed" || x.status === "error"))
    console.log(`${r.status}: ${r.id} — ${r.reason}`);
  process.exitCode = report.summary.failed + report.summary.errors > 0 ? 1 : 0;
} finally {
  await session.close();
}
