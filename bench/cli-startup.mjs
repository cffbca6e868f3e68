// The figure of the package-hygiene item: how long the commands that need no engine take
// (`--version`, `--help`, `list`), as a user runs them; each must load no Docker client.
// Target: median <= 0.25 s wall each.
import { execFileSync } from "node:child_process";

const samples = Number(process.env.DOCKNET_BENCH_SAMPLES ?? 9);
const cli = new URL("../dist/harness/cli.js", import.meta.url).pathname;
const TARGET_S = 0.25;

let missed = 0;
for (const args of [["--version"], ["--help"], ["list"]]) {
  const times = [];
  // One unmeasured run warms the page cache.
  for (let i = 0; i <= samples; i++) {
    const started = performance.now();
    execFileSync(process.execPath, [cli, ...args], { stdio: "ignore" });
    if (i > 0) times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  if (median > TARGET_S) missed++;
  console.log(
    `docknet ${args.join(" ").padEnd(9)} median ${median.toFixed(3)} s (min ${times[0].toFixed(3)}, max ${times.at(-1).toFixed(3)}, ${samples} samples) ` +
      `${median <= TARGET_S ? "<=" : ">"} ${TARGET_S} s target`,
  );
}
process.exitCode = missed ? 1 : 0;
