import { readFile } from "node:fs/promises";
import { runCommand } from "../host-command.js";
import type { Reading } from "./readings.js";

/**
 * Where the doctor reads the engine's host from. Network state (sysctls under
 * /proc/sys/net, iptables, links, routes, sockets) belongs to a network
 * namespace, so it is read inside the engine's; files and programs belong to
 * the host.
 */
export interface Vantage {
  /** local: this machine is the engine's host; blind: no view of it. */
  readonly kind: "local" | "blind";
  readonly description: string;
  /** Runs a program inside the engine's network namespace. */
  inEngineNetns(argv: readonly string[]): Promise<Reading>;
  /** Runs a program on the engine's host, in the host's own namespaces. */
  onHost(argv: readonly string[]): Promise<Reading>;
  /** Reads a file of the engine's host. */
  file(path: string): Promise<Reading>;
}

export async function commandReading(argv: readonly string[], prefix: readonly string[] = []): Promise<Reading> {
  const source = argv.join(" ");
  const [file, ...args] = [...prefix, ...argv];
  const outcome = await runCommand(file!, args, { timeoutMs: 10_000 });
  if (outcome.code === 0) return { source, text: outcome.stdout };
  if (outcome.code === 127) return { source, unavailable: `${argv[0]} is not installed` };
  return { source, unavailable: `${source} failed: ${(outcome.stderr || outcome.stdout).trim().split("\n")[0]}` };
}

export async function fileReading(path: string, shownAs = path): Promise<Reading> {
  try {
    return { source: shownAs, text: await readFile(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { source: shownAs, unavailable: code === "ENOENT" ? `${shownAs} does not exist` : `${shownAs}: ${(error as Error).message}` };
  }
}

/**
 * This machine, as root: the engine's network namespace is that of its dockerd
 * process (the host's own for a system engine, a namespace for docknet's
 * private engines), entered with nsenter.
 */
export function localVantage(dockerdPid: number | undefined): Vantage {
  const nsenter = dockerdPid === undefined ? [] : ["nsenter", `--net=/proc/${dockerdPid}/ns/net`];
  return {
    kind: "local",
    description: dockerdPid === undefined ? "this machine's own network namespace" : `the network namespace of dockerd (pid ${dockerdPid})`,
    inEngineNetns: (argv) => commandReading(argv, nsenter),
    onHost: (argv) => commandReading(argv),
    file: (path) => fileReading(path),
  };
}

/** No way onto the engine's host: every host reading is unavailable, saying why. */
export function blindVantage(reason: string): Vantage {
  const none = async (source: string): Promise<Reading> => ({ source, unavailable: reason });
  return {
    kind: "blind",
    description: reason,
    inEngineNetns: (argv) => none(argv.join(" ")),
    onHost: (argv) => none(argv.join(" ")),
    file: (path) => none(path),
  };
}
