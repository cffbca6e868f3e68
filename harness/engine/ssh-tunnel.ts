import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * An engine named by an ssh:// address (DOCKER_HOST=ssh://user@host, or a
 * docker context made with `docker context create --docker host=ssh://…`),
 * reached the way the docker CLI reaches it: each connection is
 * `ssh user@host docker system dial-stdio`, with the user's own ssh client,
 * keys, agent, known_hosts and ~/.ssh/config. docknet serves those
 * connections on a unix socket of its own, so that dockerode and
 * testcontainers (which speak no ssh) use the engine like a local one.
 * One ssh connection is shared by all (ControlMaster); it ends 30 s after
 * the last use, so a docknet killed with -9 leaves nothing running for long.
 */
export interface SshTunnel {
  /** unix:///… : the engine's API, for every client of this run. */
  readonly dockerHost: string;
  /** The ssh:// address it carries. */
  readonly target: string;
  /** What ssh last said on stderr (why a connection failed), or "". */
  lastError(): string;
  close(): Promise<void>;
}

export function isSshAddress(host: string): boolean {
  return host.startsWith("ssh://");
}

/** The ssh arguments that reach the address's host: `[-l user] [-p port] host`, as the docker CLI builds them. */
export function sshDestination(address: string): string[] {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(`"${address}" is not an ssh address (expected ssh://[user@]host[:port])`);
  }
  if (url.protocol !== "ssh:" || !url.hostname)
    throw new Error(`"${address}" is not an ssh address (expected ssh://[user@]host[:port])`);
  if (url.pathname && url.pathname !== "/")
    throw new Error(
      `"${address}": an ssh address names a host, not a path (the engine is the one \`docker\` reaches there)`,
    );
  return [
    ...(url.username ? ["-l", decodeURIComponent(url.username)] : []),
    ...(url.port ? ["-p", url.port] : []),
    "--",
    url.hostname,
  ];
}

export async function openSshTunnel(address: string): Promise<SshTunnel> {
  const destination = sshDestination(address);
  const dir = mkdtempSync(join(tmpdir(), "docknet-ssh-tunnel-"));
  const socket = join(dir, "docker.sock");
  const control = ["-o", `ControlPath=${join(dir, "control")}`];
  // BatchMode: a run in CI must fail with ssh's reason, never wait at a password prompt.
  const options = ["-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", "ControlPersist=30", ...control];
  const children = new Set<ChildProcess>();
  const connections = new Set<Socket>();
  let lastError = "";
  const server: Server = createServer((connection) => {
    connections.add(connection);
    connection.on("close", () => connections.delete(connection));
    const ssh = spawn("ssh", [...options, ...destination, "docker", "system", "dial-stdio"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(ssh);
    connection.pipe(ssh.stdin);
    ssh.stdout.pipe(connection);
    ssh.stderr.on("data", (chunk: Buffer) => {
      const line = chunk
        .toString("utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .at(-1);
      if (line) lastError = line;
    });
    ssh.on("error", (error) => {
      lastError = `cannot run ssh: ${error.message}`;
      connection.destroy();
    });
    ssh.on("exit", () => {
      children.delete(ssh);
      connection.end();
    });
    // A client writing after ssh ended (EPIPE) ends its connection, not docknet.
    ssh.stdin.on("error", () => connection.destroy());
    connection.on("error", () => ssh.kill());
    connection.on("close", () => ssh.stdin.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, resolve);
  });
  return {
    dockerHost: `unix://${socket}`,
    target: address,
    lastError: () => lastError,
    async close() {
      // Clients keep connections open (keep-alive): they end with their ssh, then the server can close.
      for (const child of children) child.kill();
      for (const connection of connections) connection.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // The shared connection ends with the run, not 30 s later.
      spawnSync("ssh", [...control, "-O", "exit", ...destination], { stdio: "ignore", timeout: 5000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
