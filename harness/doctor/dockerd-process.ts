import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename } from "node:path";

/** A dockerd process on this machine, and what its command line says. */
export interface DockerdProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** The API addresses it listens on (-H/--host); the default socket when none is given. */
  readonly hosts: readonly string[];
  /** --config-file, else the default /etc/docker/daemon.json. */
  readonly configFile: string;
}

const DEFAULT_HOST = "unix:///var/run/docker.sock";
export const DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json";

/** The values of a flag in an argv: `--flag v`, `--flag=v`, and for short flags `-H v`. */
function flagValues(argv: readonly string[], names: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    for (const name of names) {
      if (arg === name && i + 1 < argv.length) values.push(argv[i + 1]!);
      else if (arg.startsWith(`${name}=`)) values.push(arg.slice(name.length + 1));
    }
  }
  return values;
}

export function parseDockerdArgv(pid: number, argv: readonly string[]): DockerdProcess {
  const hosts = flagValues(argv, ["-H", "--host"]).map((h) => (h.startsWith("fd://") ? DEFAULT_HOST : h));
  return {
    pid,
    argv,
    hosts: hosts.length ? hosts : [DEFAULT_HOST],
    configFile: flagValues(argv, ["--config-file"]).at(-1) ?? DEFAULT_DAEMON_JSON,
  };
}

function socketPath(host: string): string | undefined {
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  return host.startsWith("/") ? host : undefined;
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return real(a) === real(b);
}

/** Every dockerd running on this machine (any user may read a command line). */
export function listDockerdProcesses(): DockerdProcess[] {
  const found: DockerdProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      if (argv[0] && basename(argv[0]) === "dockerd") found.push(parseDockerdArgv(Number(entry), argv));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** The local dockerd serving a unix-socket DOCKER_HOST, if it runs on this machine. */
export function findDockerdServing(dockerHost: string, processes = listDockerdProcesses()): DockerdProcess | undefined {
  const wanted = socketPath(dockerHost);
  if (!wanted) return undefined;
  return processes.find((p) => p.hosts.some((h) => {
    const path = socketPath(h);
    return path !== undefined && samePath(path, wanted);
  }));
}
