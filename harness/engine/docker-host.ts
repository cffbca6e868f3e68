import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";

/** Where the "current" engine is, and which setting said so. */
export interface DockerHostChoice {
  readonly host: string;
  readonly source: "DOCKER_HOST" | "docker context" | "default socket";
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
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length), ...timeout };
  if (host.startsWith("/")) return { socketPath: host, ...timeout };
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(`DOCKER_HOST "${host}" is not an address (expected unix:///path, tcp://host:port or ssh://user@host)`);
  }
  switch (url.protocol) {
    case "tcp:":
    case "http:":
    case "https:": {
      const tls = url.protocol === "https:" || process.env.DOCKER_TLS_VERIFY === "1";
      return { host: url.hostname, port: Number(url.port || (tls ? 2376 : 2375)), protocol: tls ? "https" : "http", ...timeout };
    }
    case "ssh:":
      return { host: url.hostname, port: Number(url.port || 22), protocol: "ssh", username: url.username || undefined, ...timeout } as Docker.DockerOptions;
    default:
      throw new Error(`DOCKER_HOST "${host}" uses ${url.protocol} which docknet does not speak (use unix://, tcp:// or ssh://)`);
  }
}

/** Asks an engine for /_ping; resolves to the error text when it does not answer. */
export async function pingEngine(host: string, timeoutMs = 3000): Promise<string | undefined> {
  try {
    await new Docker(dockerodeOptions(host, timeoutMs)).ping();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
