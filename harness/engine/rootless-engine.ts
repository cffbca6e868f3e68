import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { findProgram, runCommand } from "../host-command.js";
import type { NetnsRef } from "./netns.js";

/**
 * Rootless Docker as a private engine (issue 18): the dockerd-rootless.sh that docker.io ships
 * (Docker CE: docker-ce-rootless-extras), run by an unprivileged user docknet makes for this
 * engine and removes with it, inside the engine's network namespace. RootlessKit gives dockerd a
 * user, mount and network namespace of its own; slirp4netns links that to docknet's namespace, and
 * RootlessKit's port driver publishes ports there. No systemd, nothing in the user's own account.
 */

export const ROOTLESS_INSTALL = "apt-get install -y --no-install-recommends rootlesskit slirp4netns uidmap";

/** Where Debian's docker.io keeps the script; Docker CE puts it on PATH. */
const DEBIAN_SCRIPT = "/usr/share/docker.io/contrib/dockerd-rootless.sh";

export async function rootlessScript(): Promise<string | undefined> {
  return (await findProgram("dockerd-rootless.sh")) ?? (existsSync(DEBIAN_SCRIPT) ? DEBIAN_SCRIPT : undefined);
}

/** What a rootless engine needs besides what any private engine does: the first that is missing, or undefined. */
export async function rootlessPrerequisites(): Promise<string | undefined> {
  for (const tool of ["rootlesskit", "slirp4netns", "newuidmap", "newgidmap"])
    if (!(await findProgram(tool))) return `${tool} is not installed: ${ROOTLESS_INSTALL}`;
  for (const tool of ["setpriv", "useradd", "userdel", "pkill"])
    if (!(await findProgram(tool))) return `${tool} is not installed: apt-get install -y util-linux passwd procps`;
  if (!(await rootlessScript()))
    return "dockerd-rootless.sh is not installed (docker.io ships it in /usr/share/docker.io/contrib; Docker CE in docker-ce-rootless-extras)";
  const userNamespaces = Number(readFileSync("/proc/sys/user/max_user_namespaces", "utf8").trim());
  if (!(userNamespaces > 0))
    return "user namespaces are off (user.max_user_namespaces = 0): rootless Docker needs them";
  // slirp4netns opens /dev/net/tun inside RootlessKit's user namespace, as the unprivileged user.
  const tun = existsSync("/dev/net/tun") ? statSync("/dev/net/tun").mode & 0o777 : undefined;
  if (tun === undefined) return "/dev/net/tun is missing: slirp4netns, RootlessKit's network, needs the tun device";
  if ((tun & 0o006) !== 0o006)
    return `/dev/net/tun is mode ${tun.toString(8).padStart(4, "0")} here, closed to unprivileged users (a stock distribution's udev makes it 0666): slirp4netns, RootlessKit's network, cannot open it`;
  return undefined;
}

export interface RootlessUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** An unprivileged user for one engine, with subordinate ids for its user namespace (useradd gives them). */
export async function createRootlessUser(engineId: string): Promise<RootlessUser> {
  const name = `docknet-${engineId}`;
  const made = await runCommand("useradd", [
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    "--comment",
    `docknet rootless engine ${engineId}`,
    name,
  ]);
  if (made.code !== 0) throw new Error(`useradd ${name}: ${made.stderr.trim()}`);
  if (
    !readFileSync("/etc/subuid", "utf8")
      .split("\n")
      .some((line) => line.startsWith(`${name}:`))
  ) {
    // useradd gives subordinate ids only where login.defs asks it to: then they are given here.
    const added = await runCommand("usermod", [
      "--add-subuids",
      "200000-265535",
      "--add-subgids",
      "200000-265535",
      name,
    ]);
    if (added.code !== 0) throw new Error(`usermod --add-subuids ${name}: ${added.stderr.trim()}`);
  }
  const id = async (flag: string) => Number((await runCommand("id", [flag, name])).stdout.trim());
  return { name, uid: await id("-u"), gid: await id("-g") };
}

/** The users docknet made for rootless engines (docknet-<engine id>), from /etc/passwd. */
export function rootlessUsers(): string[] {
  return readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":")[0] ?? "")
    .filter((name) => /^docknet-[0-9a-f]{8}$/.test(name));
}

/** The user of engine `id`, when there is one. */
export const rootlessUserOf = (id: string): string | undefined => rootlessUsers().find((u) => u === `docknet-${id}`);

/** Every process of the engine's user, then the user (and its subordinate ids) go. Safe when either is gone. */
export async function removeRootlessUser(name: string): Promise<void> {
  await runCommand("pkill", ["-KILL", "-u", name], { timeoutMs: 5000 });
  // A process can take a moment to be reaped before userdel accepts.
  for (let attempt = 0; attempt < 20; attempt++) {
    const removed = await runCommand("userdel", [name], { timeoutMs: 5000 });
    if (removed.code === 0 || /does not exist/.test(removed.stderr)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The engine's directories the user owns: its runtime dir (socket, RootlessKit's state), home and data-root. */
export function rootlessLayout(dir: string) {
  const root = join(dir, "rootless");
  return { root, run: join(root, "run"), home: join(root, "home"), data: join(root, "data"), bin: join(root, "bin") };
}

/** Whether every directory above a file lets other users through, and the file lets them run it. */
function openToOthers(file: string): boolean {
  if ((statSync(file).mode & 0o005) !== 0o005) return false;
  for (let d = dirname(file); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/**
 * Makes the user's directories, and a dockerd the user can run: a cached engine under root's home
 * is copied next to them (with its docker-proxy). The engine's socket appears at `socket` too.
 */
export function prepareRootless(dir: string, user: RootlessUser, dockerd: string, socket: string): string {
  const layout = rootlessLayout(dir);
  for (const d of [layout.root, layout.run, layout.home, layout.data]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, user.uid, user.gid);
  }
  chmodSync(layout.run, 0o700);
  symlinkSync(join(layout.run, "docker.sock"), socket);
  if (openToOthers(dockerd)) return dockerd;
  mkdirSync(layout.bin, { recursive: true });
  for (const program of ["dockerd", "docker-proxy"]) {
    const from = join(dirname(dockerd), program);
    if (existsSync(from)) copyFileSync(from, join(layout.bin, program));
  }
  chmodSync(layout.bin, 0o755);
  return join(layout.bin, "dockerd");
}

/** The command line and environment that start the rootless daemon as the user. */
export async function rootlessCommand(
  dir: string,
  user: RootlessUser,
  dockerd: string,
): Promise<{ argv: string[]; env: Record<string, string> }> {
  const layout = rootlessLayout(dir);
  return {
    argv: [
      (await findProgram("setpriv"))!,
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      "--init-groups",
      (await rootlessScript())!,
      "--data-root",
      layout.data,
      "--config-file",
      join(dir, "daemon.json"),
    ],
    env: {
      HOME: layout.home,
      USER: user.name,
      LOGNAME: user.name,
      XDG_RUNTIME_DIR: layout.run,
      // The script and RootlessKit find dockerd, docker-proxy and the namespace tools on PATH.
      PATH: `${dirname(dockerd)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    },
  };
}

/** RootlessKit's own network namespace, where dockerd's bridges and firewall rules live (root may enter it). */
export function rootlessKitNetns(dir: string): NetnsRef | undefined {
  const file = join(rootlessLayout(dir).run, "dockerd-rootless", "child_pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return pid > 0 ? `/proc/${pid}/ns/net` : undefined;
}
