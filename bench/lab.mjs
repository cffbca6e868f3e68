// The figures of the multi-host lab issue:
//  - a 3-host lab up: engines started, swarm formed, probe image on every node, and an attachable
//    overlay carrying a ping between containers on two nodes (median of DOCKNET_BENCH_SAMPLES, default 3);
//  - ping latency and TCP throughput between two containers across hosts over the overlay, against
//    two containers on one host's bridge. Traffic stays inside the lab's namespaces.
import { randomBytes } from "node:crypto";
import { startMultiHostLab } from "../dist/harness/engine/multi-host-lab.js";
import { Cluster } from "../dist/harness/lab/cluster.js";

const samples = Number(process.env.DOCKNET_BENCH_SAMPLES ?? 3);
const MEGABYTES = 200;

async function pair(scope, first, second, network) {
  const server = await scope.probe(first, "server", [{ network }]);
  const client = await scope.probe(second, "client", [{ network }]);
  const inspect = await first.docker.getContainer(server.id).inspect();
  const address = Object.values(inspect.NetworkSettings.Networks)[0].IPAddress;
  return { server, client, address };
}

/** Median round trip of 20 pings, in ms. */
async function latency({ client, address }) {
  const out = await client.exec(["ping", "-c", "20", "-i", "0.2", address], 30);
  const avg = /= [\d.]+\/([\d.]+)\//.exec(out.stdout)?.[1];
  return Number(avg);
}

/** MB/s of MEGABYTES sent with nc from client to server (busybox: dd | nc). */
async function throughput({ server, client, address }) {
  await server.exec(["sh", "-c", "nc -l -p 5001 > /dev/null &"]);
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  const out = await client.exec(
    ["sh", "-c", `dd if=/dev/zero bs=1M count=${MEGABYTES} 2>/dev/null | nc -w 5 ${address} 5001`],
    120,
  );
  const seconds = (performance.now() - started) / 1000;
  if (out.code !== 0) throw new Error(`transfer failed: ${out.stderr}`);
  return MEGABYTES / seconds;
}

const ups = [];
let measured;
for (let i = 0; i < samples; i++) {
  const started = performance.now();
  const lab = await startMultiHostLab({ hosts: 3 });
  try {
    const cluster = await Cluster.open({ nodes: lab.nodes, runId: randomBytes(3).toString("hex"), control: lab });
    const scope = cluster.scope("bench");
    const overlay = await scope.overlay("ov", { attachable: true });
    const across = await pair(scope, lab.nodes[0], lab.nodes[1], overlay);
    const reached = await scope.eventually(
      () => across.client.ping(across.address),
      (p) => p.outcome === "reached",
      20_000,
    );
    if (reached.value.outcome !== "reached") throw new Error("the overlay carried no ping");
    ups.push((performance.now() - started) / 1000);
    if (i === 0) {
      const bridgeScope = cluster.scope("bench-bridge");
      const local = await pair(bridgeScope, lab.nodes[2], lab.nodes[2], "bridge");
      measured = {
        overlay: { latency: await latency(across), throughput: await throughput(across) },
        bridge: { latency: await latency(local), throughput: await throughput(local) },
      };
    }
    await cluster.tearDown();
  } finally {
    await lab.stop();
  }
}
ups.sort((a, b) => a - b);
const median = ups[Math.floor(ups.length / 2)];
const rows = [
  ["samples", String(samples)],
  [
    "lab of 3 hosts up (swarm formed, overlay usable)",
    `median ${median.toFixed(1)} s (min ${ups[0].toFixed(1)}, max ${ups.at(-1).toFixed(1)})`,
  ],
  ["target", "<= 20 s"],
  ["met", median <= 20 ? "yes" : "no"],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
console.log("");
console.log("path                               ping avg (ms)   TCP (MB/s, nc)");
console.log(
  `overlay, across hosts (VXLAN)      ${measured.overlay.latency.toFixed(3).padStart(13)}   ${measured.overlay.throughput.toFixed(0).padStart(14)}`,
);
console.log(
  `bridge, one host                   ${measured.bridge.latency.toFixed(3).padStart(13)}   ${measured.bridge.throughput.toFixed(0).padStart(14)}`,
);
