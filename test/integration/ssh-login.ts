import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { terminateProcess } from "../../harness/host-command.js";
import { waitFor } from "../../harness/polling.js";

/**
 * An engine "on another host", as an ssh:// user has one, without another
 * host: an sshd of the test's own on 127.0.0.1 (a free port), and a user in
 * the `docker` group who logs in there with their own key, their own
 * known_hosts and ~/.ssh/config. To docknet, ssh://USER@127.0.0.1:PORT is a
 * remote engine: everything goes through ssh, and nothing says it is local.
 */
export interface SshLogin {
  readonly user: string;
  readonly uid: number;
  readonly home: string;
  readonly port: number;
  /** DOCKER_HOST for that user's engine. */
  readonly address: string;
  /** What sshd logged so far (why it refused or dropped a connection). */
  sshdLog(): string;
  /** The command prefix that runs a program as the user. */
  readonly asUser: string[];
  stop(): Promise<void>;
}

const run = (file: string, args: string[]) =>
  execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function sshLogin(user = "docknet-ssh"): Promise<SshLogin> {
  const home = mkdtempSync(join(tmpdir(), "docknet-ssh-home-"));
  const daemonDir = mkdtempSync(join(tmpdir(), "docknet-sshd-"));
  // '*' is no password, but not a locked account (sshd refuses those without PAM).
  run("useradd", ["--home-dir", home, "--no-create-home", "--shell", "/bin/sh", "-G", "docker", "-p", "*", user]);
  const uid = Number(run("id", ["-u", user]).trim());
  let sshd: ReturnType<typeof spawn> | undefined;
  const stop = async () => {
    if (sshd?.pid) await terminateProcess(sshd.pid, 5000);
    // userdel refuses a user with processes: a failed test may leave ssh connections of theirs.
    spawnSync("pkill", ["-KILL", "-u", user], { stdio: "ignore" });
    execFileSync("userdel", [user], { stdio: "ignore" });
    rmSync(home, { recursive: true, force: true });
    rmSync(daemonDir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const ssh = join(home, ".ssh");
    mkdirSync(ssh, { mode: 0o700 });
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", user, "-f", join(ssh, "id_ed25519")]);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(daemonDir, "host_key")]);
    writeFileSync(join(ssh, "authorized_keys"), readFileSync(join(ssh, "id_ed25519.pub")), { mode: 0o600 });
    // The user knows this host's key already, as after a first `ssh` that they accepted.
    writeFileSync(
      join(ssh, "known_hosts"),
      `[127.0.0.1]:${port} ${readFileSync(join(daemonDir, "host_key.pub"), "utf8")}`,
    );
    run("chown", ["-R", `${uid}:${uid}`, home]);
    chmodSync(home, 0o700);
    const config = join(daemonDir, "sshd_config");
    writeFileSync(
      config,
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${join(daemonDir, "host_key")}`,
        `PidFile ${join(daemonDir, "sshd.pid")}`,
        "UsePAM no",
        // sshd's default sessions per connection, and stricter than its default for connections not yet
        // logged in (10:30:100 drops some at random beyond 10): a client must open them one at a time.
        "MaxSessions 10",
        "MaxStartups 1",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `AllowUsers ${user}`,
        "",
      ].join("\n"),
    );
    // sshd's privilege separation directory; Debian's package makes it at boot.
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    // sshd's own log, for a test that fails to say what sshd saw.
    sshd = spawn("/usr/sbin/sshd", ["-D", "-E", join(daemonDir, "sshd.log"), "-f", config], { stdio: "ignore" });
    const listening = () =>
      new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve(true)));
        socket.on("error", () => resolve(false));
      });
    if (!(await waitFor(listening, 10_000, 100))) throw new Error(`sshd did not listen on 127.0.0.1:${port}`);
    return {
      user,
      uid,
      home,
      port,
      address: `ssh://${user}@127.0.0.1:${port}`,
      sshdLog: () => {
        try {
          return readFileSync(join(daemonDir, "sshd.log"), "utf8");
        } catch {
          return "";
        }
      },
      asUser: ["setpriv", "--reuid", String(uid), "--regid", String(uid), "--init-groups"],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
