// Issue 16's first target: docknet's wall time for 12 core behaviours against a plain docker CLI
// script checking the same 12 (bench/plain-twelve.sh), on one private engine, in one run, median of
// DOCKNET_BENCH_SAMPLES (3) each, alternating. Prints both walls, the containers each started, and
// docknet ÷ plain (target ≤ 0.5).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { openSession, runConformance } from "../dist/harness/session.js";
import { ALL_SCENARIOS } from "../dist/scenarios/index.js";

const IDS = "DB-02 DB-03 DNS-02 UB-01 ISO-01 PP-01 CD-01 HOST-01 NONE-01 ISO-03 OPT-03 V6-02".split(" ");
const samples = Number(process.env.DOCKNET_BENCH_SAMPLES ?? 3);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const session = await openSession({ engine: "private" });
try {
  const scenarios = ALL_SCENARIOS.filter((s) => IDS.includes(s.id));
  const script = join(import.meta.dirname, "plain-twelve.sh");
  // The script runs where the engine's host is: its network namespace (for the published port).
  const inEngineHost = session.engine.netns ? ["ip", "netns", "exec", session.engine.netns] : [];
  const plain = [];
  const docknet = [];
  let started = 0;
  let checks = 0;
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const [file, ...args] = [...inEngineHost, "bash", script, session.lab.image];
    const out = spawnSync(file, args, {
      env: { ...process.env, DOCKER_HOST: session.engine.dockerHost },
      encoding: "utf8",
    });
    plain.push((performance.now() - t0) / 1000);
    checks = out.stdout.split("\n").filter((l) => l.startsWith("ok ")).length;
    if (out.status !== 0) throw new Error(`the plain script failed a check:\n${out.stdout}${out.stderr}`);
    const before = session.lab.containersStarted;
    const report = await runConformance(session, { scenarios, concurrency: 4, timeoutMs: 120_000, strict: false });
    docknet.push(report.summary.durationMs / 1000);
    started = session.lab.containersStarted - before;
    // Each sample is a run of its own, as a user's is: it builds its shared topologies again.
    await session.lab.topologies.tearDown();
    if (report.summary.passed !== scenarios.length)
      throw new Error(`docknet: ${report.summary.passed} of ${scenarios.length} passed`);
  }
  console.log(
    `plain docker script (${checks} checks, 14 containers): median ${median(plain).toFixed(1)} s of ${plain.map((s) => s.toFixed(1)).join(", ")}`,
  );
  console.log(
    `docknet (${scenarios.length} scenarios, ${started} containers): median ${median(docknet).toFixed(1)} s of ${docknet.map((s) => s.toFixed(1)).join(", ")}`,
  );
  console.log(`docknet ÷ plain = ${(median(docknet) / median(plain)).toFixed(2)} (target <= 0.5)`);
} finally {
  await session.close();
}
