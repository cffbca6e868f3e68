import { realpathSync } from "node:fs";

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

/** Lists dockerd command lines as "pid<US>arg<US>arg…" lines (US = \x1f), from whatever /proc the shell sees. */
export const LIST_DOCKERD = `for f in $(grep -ls dockerd /proc/[0-9]*/cmdline); do
  d=\${f%/cmdline}; printf '%s\\037%s\\n' "\${d#/proc/}" "$(tr '\\000' '\\037' < "$f" 2>/dev/null)"
done`;

export function parseDockerdListing(text: string): DockerdProcess[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split("\x1f").filter(Boolean))
    .filter((fields) => fields.length >= 2 && /(^|\/)dockerd$/.test(fields[1]!))
    .map(([pid, ...argv]) => parseDockerdArgv(Number(pid), argv));
}

/** The dockerd among `processes` that serves a unix-socket DOCKER_HOST. */
export function findDockerdServing(
  dockerHost: string,
  processes: readonly DockerdProcess[],
): DockerdProcess | undefined {
  const wanted = socketPath(dockerHost);
  if (!wanted) return undefined;
  return processes.find((p) =>
    p.hosts.some((h) => {
      const path = socketPath(h);
      return path !== undefined && samePath(path, wanted);
    }),
  );
}
