import { hostname } from "node:os";
import Docker from "dockerode";
import { dockerodeOptions, pingEngine, resolveCurrentDockerHost } from "./engine/docker-host.js";
import { orphanedPrivateEngines, stopPrivateEngine } from "./engine/private-engine.js";
import { OWNER_LABEL, RUN_LABEL, sweep } from "./lab/lab.js";

function ownerIsDead(owner: string | undefined): boolean {
  const [host, pid] = (owner ?? "").split(":");
  if (host !== hostname() || !pid) return false; // another machine's run: not ours to judge
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Removes what dead runs left behind: private engines whose owner is gone
 * (daemon, namespace, mounts, directory), and labelled containers and
 * networks on the current engine whose owning process is gone (or all of
 * them with `all`).
 */
export async function cleanLeftovers(options: { all: boolean }): Promise<string> {
  const lines: string[] = [];
  const engines = orphanedPrivateEngines();
  for (const engine of engines) await stopPrivateEngine(engine);
  lines.push(`private engines stopped: ${engines.length}`);

  const current = resolveCurrentDockerHost();
  if ((await pingEngine(current.host)) !== undefined) {
    lines.push(`no engine answers at ${current.host}: nothing labelled to remove there`);
    return lines.join("\n");
  }
  const docker = new Docker(dockerodeOptions(current.host));
  const containers = await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } });
  const networks = await docker.listNetworks({ filters: { label: [RUN_LABEL] } });
  const runs = new Set<string>();
  for (const labels of [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels ?? {})]) {
    const run = labels[RUN_LABEL];
    if (run && (options.all || ownerIsDead(labels[OWNER_LABEL]))) runs.add(run);
  }
  let removed = { containers: 0, networks: 0 };
  for (const run of runs) {
    const swept = await sweep(docker, [`${RUN_LABEL}=${run}`]);
    removed = { containers: removed.containers + swept.containers, networks: removed.networks + swept.networks };
  }
  lines.push(`on ${current.host}: ${runs.size} dead run(s), ${removed.containers} container(s) and ${removed.networks} network(s) removed`);
  return lines.join("\n");
}
