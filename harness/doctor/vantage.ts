import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import { runCommand, type CommandOutcome } from "../host-command.js";
import { errorText } from "../lab/docker-api.js";
import { startHostHelper } from "../lab/host-helper.js";
import { LIST_DOCKERD, parseDockerdListing, type DockerdProcess } from "./dockerd-process.js";
import type { Reading } from "./readings.js";

/**
 * Where the doctor reads the engine's host from. Network state (sysctls under
 * /proc/sys/net, iptables, links, routes, sockets) belongs to a network
 * namespace, so it is read inside the engine's; files and programs belong to
 * the host.
 */
export interface Vantage {
  /** local: this machine, as root; helper: a host-network container on the engine; blind: no view at all. */
  readonly kind: "local" | "helper" | "blind";
  readonly description: string;
  /** Runs a program inside the engine's network namespace. */
  inEngineNetns(argv: readonly string[]): Promise<Reading>;
  /** Runs a program on the engine's host, in the host's own namespaces. */
  onHost(argv: readonly string[]): Promise<Reading>;
  /** Reads a file of the engine's host. */
  file(path: string): Promise<Reading>;
  /** The dockerd processes on the engine's host. */
  dockerdProcesses(): Promise<DockerdProcess[]>;
  close(): Promise<void>;
}

function asReading(source: string, outcome: CommandOutcome): Reading {
  if (outcome.code === 0) return { source, text: outcome.stdout };
  const said = (outcome.stderr || outcome.stdout).trim().split("\n")[0] ?? "";
  if (outcome.code === 127 || /can't execute .*No such file/.test(said))
    return { source, unavailable: `${source.split(" ")[0]} is not installed on the engine's host` };
  return { source, unavailable: `${source} failed: ${said}` };
}

const NOT_FOUND = /No such file or directory|ENOENT/;

/**
 * This machine: the engine's network namespace is that of its dockerd process
 * (the host's own for a system engine, a namespace for docknet's private
 * engines), entered with nsenter; no dockerd means this machine's own.
 */
export function localVantage(dockerdPid: number | undefined): Vantage {
  const nsenter = dockerdPid === undefined ? [] : ["nsenter", `--net=/proc/${dockerdPid}/ns/net`];
  const run = async (argv: readonly string[]) => {
    const [file, ...args] = argv;
    return asReading(argv.join(" "), await runCommand(file!, args, { timeoutMs: 10_000 }));
  };
  return {
    kind: "local",
    description:
      dockerdPid === undefined
        ? "this machine's own network namespace"
        : `the network namespace of dockerd (pid ${dockerdPid})`,
    inEngineNetns: async (argv) => {
      const reading = await run([...nsenter, ...argv]);
      return { ...reading, source: argv.join(" ") };
    },
    onHost: run,
    async file(path) {
      try {
        return { source: path, text: await readFile(path, "utf8") };
      } catch (error) {
        return {
          source: path,
          unavailable: NOT_FOUND.test(String(error))
            ? `${path} does not exist`
            : `${path}: ${(error as Error).message}`,
        };
      }
    },
    dockerdProcesses: async () => {
      const listing = await runCommand("sh", ["-c", LIST_DOCKERD]);
      return parseDockerdListing(listing.stdout);
    },
    close: async () => {},
  };
}

/**
 * Through a helper container on the engine's host network (see host-helper):
 * for a remote engine, or when we are not root. /proc in the helper is the
 * host's (host PID namespace) and its network is the engine's; the host's own
 * programs run chrooted into its root, mounted read-only.
 */
export async function helperVantage(docker: Docker, why: string): Promise<Vantage> {
  const started = await startHostHelper(docker);
  // A command whose exec fails (the engine's connection dropped) is a reading the doctor could not take, not a crash.
  const helper = {
    exec: async (argv: readonly string[]): Promise<CommandOutcome> => {
      try {
        return await started.exec(argv);
      } catch (error) {
        return { code: 255, stdout: "", stderr: `the helper container's exec failed: ${errorText(error)}` };
      }
    },
    remove: () => started.remove(),
  };
  // Through the host's own /bin/sh: the static busybox prefers its applets, even after chroot,
  // so a bare `chroot /host ip` would run busybox's ip instead of the host's.
  const inHost = (argv: readonly string[]) => ["chroot", "/host", "/bin/sh", "-c", 'exec "$0" "$@"', ...argv];
  return {
    kind: "helper",
    description: `a host-network helper container on the engine (${why})`,
    inEngineNetns: async (argv) =>
      asReading(argv.join(" "), await helper.exec(argv[0] === "cat" ? argv : inHost(argv))),
    onHost: async (argv) => asReading(argv.join(" "), await helper.exec(inHost(argv))),
    async file(path) {
      const outcome = await helper.exec(["cat", `/host${path}`]);
      if (outcome.code !== 0 && NOT_FOUND.test(outcome.stderr))
        return { source: path, unavailable: `${path} does not exist` };
      return asReading(path, outcome);
    },
    dockerdProcesses: async () => parseDockerdListing((await helper.exec(["sh", "-c", LIST_DOCKERD])).stdout),
    close: () => helper.remove(),
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
    dockerdProcesses: async () => [],
    close: async () => {},
  };
}
