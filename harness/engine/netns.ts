import { runCommand, runOrFail } from "../host-command.js";

/** The command prefix that runs a program inside a named network namespace. nsenter, not `ip netns exec`, which remounts /sys and hides the cgroups. */
export function enterNetns(netns: string): string[] {
  return ["nsenter", `--net=/run/netns/${netns}`];
}

/** What a command run in a namespace did, and how a person would run it there. */
export interface NetnsOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly how: string;
}

/** Runs a program inside a named network namespace (through enterNetns). */
export async function runInNetns(netns: string, argv: readonly string[], timeoutMs = 15_000): Promise<NetnsOutcome> {
  const [nsenter, ...enter] = enterNetns(netns);
  const out = await runCommand(nsenter!, [...enter, ...argv], { timeoutMs });
  return { code: out.code, stdout: out.stdout, stderr: out.stderr, how: [nsenter, ...enter, ...argv].join(" ") };
}

/** Creates a network namespace with its loopback up. */
export async function createNamespace(netns: string, context = "", timeoutMs?: number): Promise<void> {
  await runOrFail("ip", ["netns", "add", netns], context, timeoutMs);
  await runOrFail("ip", ["-n", netns, "link", "set", "lo", "up"], context, timeoutMs);
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
  await runCommand("ip", ["netns", "del", netns], { timeoutMs: 5000 });
}
