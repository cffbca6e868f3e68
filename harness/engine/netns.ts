import { existsSync, readdirSync } from "node:fs";
import { runCommand, runOrFail } from "../host-command.js";

/**
 * A network namespace docknet can enter: a name under /run/netns (docknet's
 * own), or a path such as /proc/<pid>/ns/net (the namespace a local dockerd
 * runs in, which docknet did not make and never names, so that nothing can
 * delete it as if it were its own).
 */
export type NetnsRef = string;

function netnsPath(netns: NetnsRef): string {
  return netns.startsWith("/") ? netns : `/run/netns/${netns}`;
}

/** How `ip link … netns X` names the namespace: its name, or the pid whose namespace it is. */
export function ipNetnsTarget(netns: NetnsRef): string {
  if (!netns.startsWith("/")) return netns;
  const pid = /^\/proc\/(\d+)\/ns\/net$/.exec(netns)?.[1];
  if (!pid) throw new Error(`cannot name namespace ${netns} to ip: neither a name nor /proc/<pid>/ns/net`);
  return pid;
}

/** The command prefix that runs a program inside a network namespace. nsenter, not `ip netns exec`, which remounts /sys and hides the cgroups. */
export function enterNetns(netns: NetnsRef): string[] {
  return ["nsenter", `--net=${netnsPath(netns)}`];
}

/** What a command run in a namespace did, and how a person would run it there. */
export interface NetnsOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly how: string;
}

/** Runs a program inside a network namespace (through enterNetns). */
export async function runInNetns(netns: NetnsRef, argv: readonly string[], timeoutMs = 15_000): Promise<NetnsOutcome> {
  const [nsenter, ...enter] = enterNetns(netns);
  const out = await runCommand(nsenter!, [...enter, ...argv], { timeoutMs });
  return { code: out.code, stdout: out.stdout, stderr: out.stderr, how: [nsenter, ...enter, ...argv].join(" ") };
}

/**
 * Creates a network namespace with its loopback up and forwarding off, as a
 * fresh machine has it. A new namespace inherits IPv4 forwarding from the
 * host's (net.core.devconf_inherit_init_net=0), and a host that runs Docker
 * has it on: left so, dockerd would not set the FORWARD policy it sets on a
 * fresh host, and an outside host would route between its links.
 */
export async function createNamespace(netns: string, context = "", timeoutMs?: number): Promise<void> {
  await runOrFail("ip", ["netns", "add", netns], context, timeoutMs);
  await runOrFail("ip", ["-n", netns, "link", "set", "lo", "up"], context, timeoutMs);
  await runInNetnsOrFail(
    netns,
    ["sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward && echo 0 > /proc/sys/net/ipv6/conf/all/forwarding"],
    context,
    timeoutMs,
  );
}

/** Runs a program inside a network namespace as a set-up step: its failure makes the engine unusable (runOrFail). */
export async function runInNetnsOrFail(
  netns: NetnsRef,
  argv: readonly string[],
  context = "",
  timeoutMs?: number,
): Promise<void> {
  const [nsenter, ...enter] = enterNetns(netns);
  await runOrFail(nsenter!, [...enter, ...argv], context, timeoutMs);
}

/** The named network namespaces of this machine (/run/netns), for finding docknet's leftovers. */
export function listNamespaces(): string[] {
  return existsSync("/run/netns") ? readdirSync("/run/netns") : [];
}

/** Kills whatever still runs inside a network namespace, then deletes it (its veths and rules go with it). */
export async function removeNamespace(netns: string): Promise<void> {
  const inside = await runCommand("ip", ["netns", "pids", netns], { timeoutMs: 5000 });
  for (const pid of inside.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // The kernel frees a deleted namespace's devices later, in a work queue: a veth's other end, in
  // another namespace, could outlive this call (seen in CI: `clean` returned with dnu-<id> still on the host).
  // Deleting each veth first takes its peer with it at once.
  const veths = await runCommand("ip", ["-n", netns, "-j", "link", "show", "type", "veth"], { timeoutMs: 5000 });
  for (const { ifname } of JSON.parse(veths.stdout || "[]") as { ifname: string }[])
    await runCommand("ip", ["-n", netns, "link", "del", ifname], { timeoutMs: 5000 });
  await runCommand("ip", ["netns", "del", netns], { timeoutMs: 5000 });
}
