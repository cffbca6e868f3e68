import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SLOT_PREFIX } from "../../harness/engine/engine-slot.js";
import { stateRoot } from "../../harness/engine/private-engine.js";
import { listNamespaces } from "../../harness/engine/netns.js";
import { rootlessUsers } from "../../harness/engine/rootless-engine.js";

const entries = (dir: string, what: string) =>
  existsSync(dir) ? readdirSync(dir).map((e) => `${what} ${join(dir, e)}`) : [];
const processesMentioning = (path: string) =>
  execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(path) && !line.includes("ps -eo"))
    .map((p) => `process ${p.trim()}`);

/**
 * Everything of docknet's that could outlive a run on this machine, but its
 * kernel VMs: namespaces, engine, outside-host and lab directories, daemons,
 * the users rootless engines run as, and engine slots (lanes' DOCKER_HOST).
 * The kernel VM's tests (test/kernel-vm) check theirs with kernelVmLeftovers().
 */
export function docknetLeftovers(): string[] {
  const namespaces = listNamespaces().filter((n) => n.startsWith("docknet-"));
  return [
    ...namespaces.map((n) => `network namespace ${n}`),
    ...entries(join(stateRoot(), "engines"), "engine directory"),
    ...entries(join(stateRoot(), "outside"), "outside host directory"),
    ...entries(join(stateRoot(), "labs"), "lab directory"),
    ...processesMentioning(join(stateRoot(), "engines")),
    ...rootlessUsers().map((u) => `rootless engine user ${u}`),
    ...readdirSync(tmpdir())
      .filter((e) => e.startsWith(SLOT_PREFIX))
      .map((e) => `engine slot ${join(tmpdir(), e)}`),
  ];
}

/** What of docknet's kernel VMs could outlive a run: their directories and QEMU processes. */
export function kernelVmLeftovers(): string[] {
  return [
    ...entries(join(stateRoot(), "vms"), "kernel VM directory"),
    ...processesMentioning(join(stateRoot(), "vms")),
  ];
}
