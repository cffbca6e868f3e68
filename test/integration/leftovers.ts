import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { stateRoot } from "../../harness/engine/private-engine.js";
import { listNamespaces } from "../../harness/engine/netns.js";

/** Everything of docknet's that could outlive a run on this machine: namespaces, engine and VM directories, daemons, VMs. */
export function docknetLeftovers(): string[] {
  const found: string[] = [];
  const namespaces = listNamespaces().filter((n) => n.startsWith("docknet-"));
  found.push(...namespaces.map((n) => `network namespace ${n}`));
  const engines = join(stateRoot(), "engines");
  if (existsSync(engines)) found.push(...readdirSync(engines).map((e) => `engine directory ${join(engines, e)}`));
  const outside = join(stateRoot(), "outside");
  if (existsSync(outside)) found.push(...readdirSync(outside).map((o) => `outside host directory ${join(outside, o)}`));
  const labs = join(stateRoot(), "labs");
  if (existsSync(labs)) found.push(...readdirSync(labs).map((l) => `lab directory ${join(labs, l)}`));
  const vms = join(stateRoot(), "vms");
  if (existsSync(vms)) found.push(...readdirSync(vms).map((v) => `kernel VM directory ${join(vms, v)}`));
  const processes = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => (line.includes(join(stateRoot(), "engines")) || line.includes(join(stateRoot(), "vms"))) && !line.includes("ps -eo"));
  found.push(...processes.map((p) => `process ${p.trim()}`));
  return found;
}
