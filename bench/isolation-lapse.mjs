// Does isolation between two bridges lapse while the engine creates or removes other networks?
// On each engine at hand (the system's dockerd and each cached one, or the versions given), a client
// on network A sends HTTP requests (30 loops at once, nc -w 1) to a server on network B for a while
// with the engine idle, then while networks are created one after another, then while they are
// removed; it prints how many requests got an answer in each phase. Any answer is isolation lifted.
// Why docknet keeps network creation and "cannot reach" checks apart (harness/lab/network-creation-gate.ts).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cachedEngines, findEngine, systemEngine } from "../dist/harness/engine/engine-binaries.js";
import { runCommand } from "../dist/harness/host-command.js";
import { openSession } from "../dist/harness/session.js";

const seconds = Number(process.env.DOCKNET_BENCH_SECONDS ?? 20);
const wanted = process.argv.slice(2);
if (wanted.length !== 1) {
  // testcontainers keeps one engine per process: each engine's measurement runs in a process of its own.
  const versions = wanted.length
    ? wanted
    : [await systemEngine(), ...cachedEngines().filter((e) => !e.corrupt)]
        .filter(Boolean)
        .map((e) => e.version.replace(/[^0-9.].*$/, ""));
  for (const version of versions) {
    const code = await new Promise((resolve) =>
      spawn(process.execPath, [fileURLToPath(import.meta.url), version], { stdio: "inherit" }).on("exit", resolve),
    );
    if (code !== 0) process.exitCode = 1;
  }
  process.exit();
}
const engine = await findEngine(wanted[0]);
if (!engine) {
  console.log(`${wanted[0]}: no such engine at hand (docknet engine fetch ${wanted[0]})`);
  process.exit(1);
}
const session = await openSession({ engine: "private", dockerd: engine.dockerd });
try {
  const env = { ...process.env, DOCKER_HOST: session.engine.dockerHost };
  // The docker CLI as a user runs it; the request loops take `seconds`, the rest a moment.
  const docker = async (...args) => {
    const out = await runCommand("docker", args, { env, timeoutMs: (seconds + 60) * 1000 });
    if (out.code !== 0) throw new Error(`docker ${args[0]}: ${out.stderr.trim()}`);
    return out.stdout.trim();
  };
  const image = session.lab.image;
  await docker("network", "create", "lapse-a");
  await docker("network", "create", "lapse-b");
  await docker(
    "run",
    "-d",
    "--name",
    "lapse-server",
    "--network",
    "lapse-b",
    image,
    "httpd",
    "-f",
    "-p",
    "80",
    "-h",
    "/",
  );
  await docker("run", "-d", "--name", "lapse-client", "--network", "lapse-a", image, "sleep", "3600");
  const target = await docker(
    "inspect",
    "-f",
    '{{(index .NetworkSettings.Networks "lapse-b").IPAddress}}',
    "lapse-server",
  );
  // 30 loops in the client, each request waiting a second for its connection and two in all (a connection
  // let through while isolation lapsed stalls once it is back); each loop prints "attempts answered".
  const requests = async () => {
    const loop = `n=0; ok=0; end=$(( $(date +%s) + ${seconds} )); while [ $(date +%s) -lt $end ]; do n=$((n+1)); if printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout -s KILL 2 nc -w 1 ${target} 80 2>/dev/null | grep -q HTTP; then ok=$((ok+1)); fi; done; echo $n $ok`;
    const out = await docker(
      "exec",
      "lapse-client",
      "sh",
      "-c",
      `for j in $(seq 30); do ( ${loop} ) 2>/dev/null & done; wait`,
    );
    return out
      .split("\n")
      .map((line) => line.split(" ").map(Number))
      .reduce(([n, ok], [a, b]) => [n + a, ok + b], [0, 0]);
  };
  // Runs `churn` (a shell loop of docker commands) while the requests run, then stops it.
  const during = async (churn) => {
    const child = churn ? spawn("sh", ["-c", churn], { env, stdio: "ignore", detached: true }) : undefined;
    try {
      return await requests();
    } finally {
      try {
        if (child && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      } catch {
        // it ended meanwhile
      }
    }
  };
  console.error(`${session.engine.description}: idle…`);
  const idle = await during();
  console.error("  while creating networks…");
  // Each loop ends by itself, at its last network or once its engine stops answering.
  const creating = await during(
    "for i in $(seq 1 200); do docker network create --subnet 10.97.$i.0/24 lapse-new$i >/dev/null || exit 1; done",
  );
  const names = (await docker("network", "ls", "--format", "{{.Name}}"))
    .split("\n")
    .filter((n) => n.startsWith("lapse-new"));
  console.error(`  while removing ${names.length} networks…`);
  const removing = await during(`for n in ${names.join(" ")}; do docker network rm $n >/dev/null || exit 1; done`);
  const row = ([n, ok]) => `${ok} of ${n} answered`;
  console.log(`${session.engine.description}: ${target} on network B from network A, ${seconds} s each`);
  console.log(`  idle engine:              ${row(idle)}`);
  console.log(`  while creating networks:  ${row(creating)}`);
  console.log(`  while removing ${String(names.length).padEnd(3)} of them: ${row(removing)}`);
} finally {
  await session.close();
}
