import { hostname } from "node:os";
import Docker from "dockerode";
import { dockerodeOptions, resolveCurrentDockerHost } from "./engine/docker-host.js";
import { currentEngineApi } from "./engine/select-engine.js";
import { removeDeadSshTunnels } from "./engine/ssh-tunnel.js";
import { removeDeadEngineSlots } from "./engine/engine-slot.js";
import { labIsHeld, orphanedLabs, stopLab } from "./engine/multi-host-lab.js";
import { orphanedPrivateEngines, stopPrivateEngine } from "./engine/private-engine.js";
import { removeOrphanedOutsideHosts } from "./engine/current-engine-outside.js";
import { isProcessAlive } from "./host-command.js";
import { removeLeftoverRuns } from "./lab/sweep.js";
import { orphanedVms, stopVm } from "./kernel-vm/vm.js";
import { HELPER_OWNER_ENV } from "./vantage.js";

function ownerIsDead(owner: string | undefined): boolean {
  const [host, pid] = (owner ?? "").split(":");
  if (host !== hostname() || !pid) return false; // another machine's run: not ours to judge
  return !isProcessAlive(Number(pid));
}

/**
 * Removes what dead runs left behind: multi-host labs whose run died (or
 * whose start was killed), private engines whose owner is gone (daemon,
 * namespace, mounts, directory), outside hosts built beside the current
 * engine by runs that died, and labelled containers and
 * networks on the current engine whose owning process is gone (or all of
 * them with `all`).
 */
export async function cleanLeftovers(options: { all: boolean }): Promise<string> {
  // The current engine first: removing a dead user's helper container ends the run inside it, whose
  // private engines and outside hosts the steps below then find with a dead owner.
  const current = resolveCurrentDockerHost();
  let onEngine: string;
  const api = await currentEngineApi(current);
  if ("problem" in api) {
    onEngine = `no engine answers at ${current.host}: nothing labelled to remove there`;
  } else {
    // The helper container this clean itself runs in (for a user who is not root) is not a leftover.
    const self = process.env[HELPER_OWNER_ENV];
    try {
      const removed = await removeLeftoverRuns(
        new Docker(dockerodeOptions(api.dockerHost)),
        (owner) => owner !== self && (options.all || ownerIsDead(owner)),
      );
      onEngine = `on ${current.host}: ${removed.runs} dead run(s), ${removed.containers} container(s) and ${removed.networks} network(s) removed`;
    } finally {
      await api.close();
    }
  }
  const lines: string[] = [];
  // The user's own ssh tunnels (an ssh:// engine) of a docknet killed with -9: theirs to remove, root or not.
  const tunnels = removeDeadSshTunnels();
  if (tunnels) lines.push(`ssh tunnels of dead runs removed: ${tunnels}`);
  const slots = removeDeadEngineSlots();
  if (slots) lines.push(`engine slots of dead runs removed: ${slots}`);
  // What runs as root left on this machine (namespaces, daemons, mounts) only root can remove: a
  // user whose helper was refused (an engine on another host) is told, not given a stack trace.
  if (process.getuid?.() !== 0) {
    const found = orphanedLabs().length + orphanedVms().length + orphanedPrivateEngines(labIsHeld).length;
    lines.push(
      found
        ? `on this machine: ${found} lab(s), kernel VM(s) or private engine(s) left by runs as root: removing them needs root (sudo docknet clean)`
        : "on this machine: nothing left by docknet's runs",
    );
    lines.push(onEngine);
    return lines.join("\n");
  }
  // Labs before engines: they take their nodes with them. A lab kept by `docknet lab up` is not a leftover.
  const labs = orphanedLabs();
  for (const lab of labs) await stopLab(lab);
  lines.push(`labs removed: ${labs.length}`);
  // A VM whose docknet was killed: its engines and labs are inside it and go with it.
  const vms = orphanedVms();
  for (const vm of vms) stopVm(vm);
  lines.push(`kernel VMs stopped: ${vms.length}`);
  const engines = orphanedPrivateEngines(labIsHeld);
  for (const engine of engines) await stopPrivateEngine(engine);
  lines.push(`private engines stopped: ${engines.length}`);
  lines.push(`outside hosts beside the current engine removed: ${await removeOrphanedOutsideHosts()}`);
  lines.push(onEngine);
  return lines.join("\n");
}
