// The figure of the doctor issue: wall time of the whole command, as a user runs it,
// against a private engine (this machine runs no engine of its own).
import { execFileSync } from "node:child_process";
import { chmodSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { startPrivateEngine } from "../dist/harness/engine/private-engine.js";

const samples = Number(process.env.DOCKNET_BENCH_SAMPLES ?? 9);
const cli = new URL("../dist/harness/cli.js", import.meta.url).pathname;

function timeRuns(prefix, env) {
  const times = [];
  // One unmeasured run warms the page cache (node, dist/, iptables) and, as non-root, builds the helper image.
  for (let i = 0; i <= samples; i++) {
    const started = performance.now();
    execFileSync(
      prefix[0] ?? process.execPath,
      [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), cli, "doctor", "--fail-on", "never"],
      {
        env,
        stdio: "ignore",
      },
    );
    if (i > 0) times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1) };
}

const engine = await startPrivateEngine();
try {
  const env = { ...process.env, DOCKER_HOST: engine.dockerHost };
  const root = timeRuns([], env);
  // As a user in the docker group would: the socket opened to uid 65534, the host read through a helper container.
  const socket = engine.dockerHost.slice("unix://".length);
  chmodSync(socket, 0o666);
  for (let dir = dirname(socket); dir !== "/" && dir !== "/tmp"; dir = dirname(dir))
    chmodSync(dir, statSync(dir).mode | 0o005);
  const helper = timeRuns(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"], env);
  const fmt = (t) => `median ${t.median.toFixed(2)} s (min ${t.min.toFixed(2)}, max ${t.max.toFixed(2)})`;
  const rows = [
    ["engine", engine.description],
    ["samples", String(samples)],
    ["docknet doctor, as root (engine namespace read directly)", fmt(root)],
    ["docknet doctor, not root (helper container)", fmt(helper)],
    ["target", "median <= 2 s as root"],
    ["met", root.median <= 2 ? "yes" : "no"],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  await engine.stop();
}
