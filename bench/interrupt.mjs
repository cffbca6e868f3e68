// The figure of the interrupt item: how long `docknet run` takes to exit after Ctrl-C, once
// scenarios are under way on a private engine (its teardown and the engine's stop included), and
// how many verdicts its JSON report keeps. Target: exit within 3 s plus teardown.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = new URL("../dist/harness/cli.js", import.meta.url).pathname;
const samples = Number(process.env.DOCKNET_BENCH_SAMPLES ?? 3);
const rows = [];
for (let i = 0; i < samples; i++) {
  const dir = mkdtempSync(join(tmpdir(), "docknet-bench-interrupt-"));
  const json = join(dir, "run.json");
  const child = spawn(process.execPath, [cli, "run", "--engine", "private", "--json", json, "--no-color"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let text = "";
  let sentAt;
  let cleanupAt;
  child.stderr.on("data", (chunk) => {
    text += chunk.toString();
    if (sentAt === undefined && /^(PASS|FAIL) /m.test(text)) {
      sentAt = performance.now();
      child.kill("SIGINT");
    }
    if (sentAt !== undefined && cleanupAt === undefined && /^\d+\/\d+ passed/m.test(text))
      cleanupAt = performance.now();
  });
  const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c)));
  const exitAt = performance.now();
  const report = JSON.parse(readFileSync(json, "utf8"));
  const interrupted = report.results.filter((r) => /^interrupted by SIGINT/.test(r.reason ?? "")).length;
  rows.push({
    toSummary: (cleanupAt - sentAt) / 1000,
    toExit: (exitAt - sentAt) / 1000,
    code,
    verdicts: report.results.length,
    interrupted,
  });
  rmSync(dir, { recursive: true, force: true });
}
for (const r of rows) {
  console.log(
    `Ctrl-C -> verdicts printed ${r.toSummary.toFixed(2)} s, -> exit ${r.toExit.toFixed(2)} s (exit ${r.code}); report: ${r.verdicts} verdicts, ${r.interrupted} marked interrupted`,
  );
}
const sorted = rows.map((r) => r.toSummary).sort((a, b) => a - b);
console.log(
  `median Ctrl-C -> verdicts printed: ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s (target <= 3 s; teardown follows)`,
);
