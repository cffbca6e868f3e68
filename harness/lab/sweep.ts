import type Docker from "dockerode";
import { OWNER_LABEL, RUN_LABEL } from "./labels.js";

/** Removes labelled containers, then labelled networks. Returns what it removed. */
export async function sweep(docker: Docker, labelFilters: string[]): Promise<{ containers: number; networks: number }> {
  const containers = await docker.listContainers({ all: true, filters: { label: labelFilters } });
  for (const wave of linkersFirst(containers))
    await Promise.all(
      wave.map((c) =>
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

/**
 * The containers in waves to remove one after another: those no other container links to first,
 * then the targets of their links. A linking container removed together with its target leaves the
 * link's ACCEPT rules behind on Docker 20.10 (4 pairs at once: rules left every time in 8 rounds;
 * the linking ones first: never), and under icc=false a later container that gets one of those
 * addresses is let through: a verdict that depends on what an earlier scenario left.
 */
export function linkersFirst<C extends Pick<Docker.ContainerInfo, "Names">>(containers: readonly C[]): C[][] {
  // A link target has a name under its linker's: "/client/svr" for client's link to it as svr.
  const linkersOf = (c: C) => c.Names.map((n) => /^\/([^/]+)\/[^/]+$/.exec(n)?.[1]).filter((n) => n !== undefined);
  const waves: C[][] = [];
  let left = [...containers];
  while (left.length) {
    const names = new Set(left.flatMap((c) => c.Names.map((n) => n.slice(1))));
    const free = left.filter((c) => !linkersOf(c).some((linker) => names.has(linker)));
    // A cycle of links goes at once.
    const wave = free.length ? free : left;
    waves.push(wave);
    left = left.filter((c) => !wave.includes(c));
  }
  return waves;
}
