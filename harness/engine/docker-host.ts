import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";

/** Where the "current" engine is, and which setting said so. */
export interface DockerHostChoice {
  readonly host: string;
  readonly source: "DOCKER_HOST" | "docker context" | "default socket" | "--nodes";
}

const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

/**
 * Resolves the current engine the way the docker CLI does: DOCKER_HOST, else
 * DOCKER_CONTEXT or the config's currentContext, else the default socket.
 * testcontainers ignores contexts, so docknet resolves them itself.
 */
export function resolveCurrentDockerHost(env: NodeJS.ProcessEnv = process.env): DockerHostChoice {
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: "DOCKER_HOST" };
  const configDir = env.DOCKER_CONFIG ?? join(homedir(), ".docker");
  let context = env.DOCKER_CONTEXT;
  if (!context) {
    const configFile = join(configDir, "config.json");
    if (existsSync(configFile)) {
      try {
        context = (JSON.parse(readFileSync(configFile, "utf8")) as { currentContext?: string }).currentContext;
      } catch {
        context = undefined; // an unreadable config means the CLI would fall back to the default too
      }
    }
  }
  if (context && context !== "default") {
    const meta = join(configDir, "contexts", "meta", createHash("sha256").update(context).digest("hex"), "meta.json");
    if (existsSync(meta)) {
      const parsed = JSON.parse(readFileSync(meta, "utf8")) as { Endpoints?: { docker?: { Host?: string } } };
      const host = parsed.Endpoints?.docker?.Host;
      if (host) return { host, source: "docker context" };
    }
  }
  return { host: DEFAULT_SOCKET, source: "default socket" };
}

/** Dockerode options for a DOCKER_HOST-style address (unix, tcp, http(s), ssh). */
export function dockerodeOptions(host: string, timeoutMs?: number): Docker.DockerOptions {
  const timeout = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  // docker-modem lays these options over defaults it reads from DOCKER_HOST, and a host there (an
  // ssh:// or tcp:// one) would win over the socket: they are cleared by name.
  const socket = (socketPath: string): Docker.DockerOptions =>
    ({
      socketPath,
      host: undefined,
      port: undefined,
      protocol: undefined,
      username: undefined,
      ...timeout,
    }) as Docker.DockerOptions;
  if (host.startsWith("unix://")) return socket(host.slice("unix://".length));
  if (host.startsWith("/")) return socket(host);
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(
      `DOCKER_HOST "${host}" is not an address (expected unix:///path, tcp://host:port or ssh://user@host)`,
    );
  }
  switch (url.protocol) {
    case "tcp:":
    case "http:":
    case "https:": {
      const tls = url.protocol === "https:" || process.env.DOCKER_TLS_VERIFY === "1";
      return {
        host: url.hostname,
        port: Number(url.port || (tls ? 2376 : 2375)),
        protocol: tls ? "https" : "http",
        ...timeout,
      };
    }
    case "ssh:":
      return {
        host: url.hostname,
        port: Number(url.port || 22),
        protocol: "ssh",
        username: url.username || undefined,
        ...timeout,
      } as Docker.DockerOptions;
    default:
      throw new Error(
        `DOCKER_HOST "${host}" uses ${url.protocol} which docknet does not speak (use unix://, tcp:// or ssh://)`,
      );
  }
}

/**
 * Why an engine did not answer, in one line a person can act on: permission
 * denied on a socket names the group to join; a server that answers HTTP but
 * is not Docker is named by its status and first line, never its whole page.
 */
export function engineProblem(host: string, error: unknown): string {
  const err = error as NodeJS.ErrnoException & { statusCode?: number; json?: unknown };
  const socket = host.startsWith("unix://") ? host.slice("unix://".length) : host.startsWith("/") ? host : undefined;
  if (err.code === "EACCES" && socket) return `permission denied on ${socket}${socketOwnership(socket)}`;
  if (err.code === "ENOENT" && socket) return `${socket} does not exist (no engine listens there)`;
  if (err.code === "ECONNREFUSED")
    return socket ? `nothing listens on ${socket} (connection refused)` : `connection refused`;
  if (typeof err.statusCode === "number") {
    const body =
      typeof err.json === "string"
        ? err.json
        : Buffer.isBuffer(err.json)
          ? err.json.toString("utf8")
          : JSON.stringify(err.json ?? "");
    return notDocker(`HTTP ${err.statusCode}`, body);
  }
  const message = error instanceof Error ? error.message : String(error);
  return firstLine(message);
}

function firstLine(text: string): string {
  const line =
    text
      .replace(/<[^>]*>/g, " ")
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? "";
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function notDocker(status: string, body: string): string {
  const said = firstLine(body);
  return `what answers there is not a Docker engine (/_ping: ${status}${said ? ` "${said}"` : ""}; Docker answers OK)`;
}

/** " (owned by root:docker, mode 660): join group docker …" — what a user without access needs to know. */
function socketOwnership(socket: string): string {
  try {
    const stat = statSync(socket);
    const group = groupName(stat.gid);
    const mode = (stat.mode & 0o777).toString(8);
    const join =
      group && group !== "root"
        ? `: add yourself to group ${group} (sudo usermod -aG ${group} $USER, then log in again), or run as root`
        : ": run as root";
    return ` (owned by uid ${stat.uid}, group ${group ?? stat.gid}, mode ${mode})${join}`;
  } catch {
    return "";
  }
}

function groupName(gid: number): string | undefined {
  try {
    const line = readFileSync("/etc/group", "utf8")
      .split("\n")
      .find((l) => l.split(":")[2] === String(gid));
    return line?.split(":")[0];
  } catch {
    return undefined;
  }
}

/**
 * Asks an engine for /_ping; resolves to the problem in one line when it does
 * not answer as Docker does ("OK"), undefined when it does.
 */
export async function pingEngine(host: string, timeoutMs = 3000): Promise<string | undefined> {
  try {
    const answer: unknown = await new Docker(dockerodeOptions(host, timeoutMs)).ping();
    const text = Buffer.isBuffer(answer) ? answer.toString("utf8") : String(answer);
    return text.trim() === "OK" ? undefined : notDocker("HTTP 200", text);
  } catch (error) {
    return engineProblem(host, error);
  }
}
