import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "../host-command.js";

/**
 * An engine named by an ssh:// address (DOCKER_HOST=ssh://user@host, or a
 * docker context made with `docker context create --docker host=ssh://…`),
 * reached the way the docker CLI reaches it: each connection is
 * `ssh user@host docker system dial-stdio`, with the user's own ssh client,
 * keys, agent, known_hosts and ~/.ssh/config. docknet serves those
 * connections on a unix socket of its own, so that dockerode and
 * testcontainers (which speak no ssh) use the engine like a local one.
 * Connections share a few ssh connections (ControlMaster, at most
 * SESSIONS_PER_CONNECTION sessions each, opened one at a time); each ends 30 s
 * after its last use, so a docknet killed with -9 leaves nothing running for long.
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

/**
 * sshd serves at most MaxSessions (10 by default) sessions on one connection and refuses the rest,
 * which ends their ssh client: a burst of API calls (the doctor's readings, a run's probes) needs
 * several connections. Each carries at most this many, leaving sshd's default room to spare.
 */
export const SESSIONS_PER_CONNECTION = 8;
/** A shared connection idle this long may have ended (ControlPersist=30): it is opened again before use. */
const IDLE_REOPEN_MS = 20_000;

interface SharedConnection {
  readonly controlPath: string;
  sessions: number;
  idleSince: number;
  ready: Promise<void>;
}

/** The last line a program wrote on stderr, or "". */
function lastLine(chunk: Buffer): string {
  return (
    chunk
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ""
  );
}

const TUNNEL_PREFIX = "docknet-ssh-tunnel-";
const OWNER_FILE = "owner";

/** Ends a shared ssh connection now (`ssh -O exit`), not when ControlPersist runs out. */
function exitShared(controlPath: string, destination: readonly string[]): void {
  spawnSync("ssh", ["-o", `ControlPath=${controlPath}`, "-O", "exit", ...destination], {
    stdio: "ignore",
    timeout: 5000,
  });
}

/**
 * What a docknet killed with -9 left of its tunnels: their directories (the
 * socket and the shared connections' control sockets), each connection ended
 * first. Returns how many were removed.
 */
export function removeDeadSshTunnels(): number {
  let removed = 0;
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(TUNNEL_PREFIX))) {
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, OWNER_FILE);
    if (!existsSync(ownerFile) || isProcessAlive(Number(readFileSync(ownerFile, "utf8")))) continue;
    // ssh needs a destination to parse, but with -O it only talks to the control socket.
    for (const control of readdirSync(dir).filter((entry) => entry.startsWith("control-")))
      exitShared(join(dir, control), ["docknet-tunnel"]);
    rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

export async function openSshTunnel(address: string): Promise<SshTunnel> {
  const destination = sshDestination(address);
  const dir = mkdtempSync(join(tmpdir(), TUNNEL_PREFIX));
  // Whose it is: `docknet clean` removes the directory of a docknet that was killed (removeDeadSshTunnels).
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  const socket = join(dir, "docker.sock");
  // BatchMode: a run in CI must fail with ssh's reason, never wait at a password prompt.
  const batch = ["-o", "BatchMode=yes"];
  const children = new Set<ChildProcess>();
  const connections = new Set<Socket>();
  const shared: SharedConnection[] = [];
  let lastError = "";
  // One connection is opened at a time: sshd drops unauthenticated connections beyond MaxStartups.
  let opening: Promise<unknown> = Promise.resolve();

  /** Opens (or reopens) a shared connection: authenticates once, then stays in the background (ControlPersist). */
  const openShared = (controlPath: string): Promise<void> => {
    const opened = opening.then(
      () =>
        new Promise<void>((resolve, reject) => {
          const ssh = spawn(
            "ssh",
            [
              ...batch,
              "-o",
              "ControlMaster=auto",
              "-o",
              "ControlPersist=30",
              "-o",
              `ControlPath=${controlPath}`,
              ...destination,
              "true",
            ],
            { stdio: ["ignore", "ignore", "pipe"] },
          );
          let said = "";
          ssh.stderr.on("data", (chunk: Buffer) => (said = lastLine(chunk) || said));
          ssh.on("error", (error) => reject(new Error(`cannot run ssh: ${error.message}`)));
          // 'exit', not 'close': the connection left in the background may hold the pipe open.
          ssh.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(said || `ssh exited with ${code}`))));
        }),
    );
    opening = opened.catch(() => undefined);
    return opened;
  };

  /** A shared connection with room for one more session (a new one when all are full, or the idle one reopened). */
  const sessionOn = async (): Promise<SharedConnection> => {
    let connection = shared.find((c) => c.sessions < SESSIONS_PER_CONNECTION);
    if (connection && connection.sessions === 0 && Date.now() - connection.idleSince > IDLE_REOPEN_MS)
      connection.ready = openShared(connection.controlPath);
    if (!connection) {
      const controlPath = join(dir, `control-${shared.length}`);
      connection = { controlPath, sessions: 0, idleSince: Date.now(), ready: openShared(controlPath) };
      shared.push(connection);
    }
    connection.sessions += 1;
    try {
      await connection.ready;
      return connection;
    } catch (error) {
      // A connection that could not be opened is forgotten: the next session tries a new one.
      connection.sessions -= 1;
      shared.splice(shared.indexOf(connection), 1);
      throw error;
    }
  };

  /** A session on it ended: one more fits, and an unused connection starts idling. */
  const release = (on: SharedConnection) => {
    on.sessions -= 1;
    if (on.sessions === 0) on.idleSince = Date.now();
  };

  const server: Server = createServer((connection) => {
    connections.add(connection);
    connection.on("close", () => connections.delete(connection));
    // Bytes the client sends before ssh runs wait in the socket (paused until piped).
    connection.pause();
    sessionOn().then(
      (on) => {
        if (connection.destroyed) {
          // The client gave up while its session was being opened.
          release(on);
          return;
        }
        const ssh = spawn(
          "ssh",
          [
            ...batch,
            "-o",
            "ControlMaster=no",
            "-o",
            `ControlPath=${on.controlPath}`,
            ...destination,
            "docker",
            "system",
            "dial-stdio",
          ],
          { stdio: ["pipe", "pipe", "pipe"] },
        );
        children.add(ssh);
        connection.pipe(ssh.stdin);
        ssh.stdout.pipe(connection);
        ssh.stderr.on("data", (chunk: Buffer) => (lastError = lastLine(chunk) || lastError));
        ssh.on("error", (error) => {
          lastError = `cannot run ssh: ${error.message}`;
          connection.destroy();
        });
        ssh.on("exit", () => {
          children.delete(ssh);
          release(on);
          connection.end();
        });
        // A client writing after ssh ended (EPIPE) ends its connection, not docknet.
        ssh.stdin.on("error", () => connection.destroy());
        connection.on("error", () => ssh.kill());
        connection.on("close", () => ssh.stdin.end());
      },
      (error: Error) => {
        lastError = error.message;
        connection.destroy();
      },
    );
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
      await opening;
      // The shared connections end with the run, not 30 s later.
      for (const { controlPath } of shared) exitShared(controlPath, destination);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
