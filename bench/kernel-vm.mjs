// The figures of the kernel VM (issue 14): how long the VM takes to boot, how long its private engine
// takes to answer, and each kernel-gated scenario's time there, from one `docknet run --kernel-vm`
// of the seven ipvlan/802.1Q/dummy scenarios (or the ids given). Everything inside is timed by the
// run's own clock; the VM's boot by the host's (the line "booted in").
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = new URL("../dist/harness/cli.js", import.meta.url).pathname;
const ids = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["IV-01", "IV-02", "IV-03", "IV-04", "IV-05", "MV-01", "MV-03"];
const dir = mkdtempSync(join(tmpdir(), "docknet-bench-vm-"));
const json = join(dir, "run.json");
const started = performance.now();
const marks = {};
const child = spawn(process.execPath, [cli, "run", "--kernel-vm", ...ids, "--json", json, "--no-color"], {
  stdio: ["ignore", "ignore", "pipe"],
});
let text = "";
child.stderr.on("data", (chunk) => {
  text += chunk.toString();
  const now = (performance.now() - started) / 1000;
  if (marks.runStarted === undefined && /preparing the engine/.test(text)) marks.runStarted = now;
  if (marks.engineReady === undefined && /^engine: /m.test(text)) marks.engineReady = now;
});
const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c)));
const wall = (performance.now() - started) / 1000;
const report = JSON.parse(readFileSync(json, "utf8"));
rmSync(dir, { recursive: true, force: true });
const boot = report.kernelVm.bootMs / 1000;
console.log(
  `kernel VM: ${report.kernelVm.kernelPackage}, QEMU ${report.kernelVm.accelerator}, waits x${report.timeScale ?? 1}; exit ${code}`,
);
console.log(`  boot (QEMU start to the run's start): ${boot.toFixed(1)} s`);
console.log(
  `  engine ready (run start to its engine answering, probe image built): ${(marks.engineReady - marks.runStarted).toFixed(1)} s`,
);
console.log(
  `  scenarios (${report.summary.passed}/${report.summary.total} passed), run's own wall: ${(report.summary.durationMs / 1000).toFixed(1)} s`,
);
for (const r of report.results)
  console.log(`    ${r.id.padEnd(6)} ${r.status.padEnd(7)} ${(r.durationMs / 1000).toFixed(1)} s`);
console.log(`  docknet run --kernel-vm, wall: ${wall.toFixed(1)} s`);
