import type Docker from "dockerode";
import { OWNER_LABEL, RUN_LABEL } from "./labels.js";

/** Removes labelled containers, then labelled networks. Returns what it removed. */
export async function sweep(docker: Docker, labelFilters: string[]): Promise<{ containers: number; networks: number }> {
  const containers = await docker.listContainers({ all: true, filters: { label: labelFilters } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters: { label: labelFilters } });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  return { containers: containers.length, networks: networks.length };
}

/** Removes every labelled run whose owner (`host:pid`) the caller judges gone. */
export async function removeLeftoverRuns(
  docker: Docker,
  ownerGone: (owner: string | undefined) => boolean,
): Promise<{ runs: number; containers: number; networks: number }> {
  const containers = await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } });
  const networks = await docker.listNetworks({ filters: { label: [RUN_LABEL] } });
  const runs = new Set<string>();
  for (const labels of [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels ?? {})]) {
    const run = labels[RUN_LABEL];
    if (run && ownerGone(labels[OWNER_LABEL])) runs.add(run);
  }
  const removed = { runs: runs.size, containers: 0, networks: 0 };
  for (const run of runs) {
    const swept = await sweep(docker, [`${RUN_LABEL}=${run}`]);
    removed.containers += swept.containers;
    removed.networks += swept.networks;
  }
  return removed;
}
