import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pingEngine } from "../../harness/engine/docker-host.js";
import { terminateProcess } from "../../harness/host-command.js";
import { waitFor } from "../../harness/polling.js";

/**
 * A system engine as users have one: a dockerd in this machine's own network
 * namespace, serving the default socket (group `docker`), with data of its
 * own in a temporary directory. Everything it changes on the host is put
 * back when it stops: the iptables and ip6tables rules, the links it made
 * (docker0, br-*, veths), and the forwarding sysctls.
 */
export interface SystemEngine {
  readonly dockerHost: string;
  readonly version: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const SOCKET = "/var/run/docker.sock";
const SYSCTLS = [
  "/proc/sys/net/ipv4/ip_forward",
  "/proc/sys/net/ipv6/conf/all/forwarding",
  "/proc/sys/net/ipv6/conf/default/forwarding",
];

function sh(file: string, args: string[], input?: string): string {
  return execFileSync(file, args, {
    encoding: "utf8",
    ...(input !== undefined ? { input } : {}),
    stdio: [input !== undefined ? "pipe" : "ignore", "pipe", "pipe"],
  });
}

const linkNames = () =>
  (JSON.parse(sh("ip", ["-j", "link", "show"])) as Array<{ ifname: string }>).map((l) => l.ifname);

/** Every table flushed, its chains deleted and policies ACCEPT, then the saved rules: iptables-restore alone keeps tables the save did not mention. */
function restoreFirewall(tool: "iptables" | "ip6tables", saved: string): void {
  for (const table of ["filter", "nat", "mangle", "raw", "security"]) {
    for (const args of [["-F"], ["-X"]]) execFileSync(tool, ["-w", "5", "-t", table, ...args], { stdio: "ignore" });
    const builtIn = (
      execFileSync(tool, ["-w", "5", "-t", table, "-S"], { encoding: "utf8" }).match(/^-P \S+/gm) ?? []
    ).map((p) => p.slice(3));
    for (const chain of builtIn)
      execFileSync(tool, ["-w", "5", "-t", table, "-P", chain, "ACCEPT"], { stdio: "ignore" });
  }
  if (saved.trim()) sh(`${tool}-restore`, [], saved);
}

/**
 * The firewall as it matters: rules, custom chains and policies that are not ACCEPT. Built-in
 * tables that only exist (empty, all ACCEPT) count as absent, as iptables-nft lists them once used.
 */
export function firewallState(tool: "iptables" | "ip6tables"): string[] {
  const lines = execFileSync(`${tool}-save`, { encoding: "utf8" }).split("\n");
  return lines
    .filter(
      (l) =>
        l.startsWith("-A ") || (l.startsWith(":") && !/^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT/.test(l)),
    )
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ""));
}

/** Why no system engine can be started here (one already answers on the default socket, or not root), or undefined. */
export async function systemEngineUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not root";
  if (existsSync(SOCKET) && (await pingEngine(`unix://${SOCKET}`)) === undefined)
    return `an engine already answers on ${SOCKET}: it is not the tests' to stop`;
  return undefined;
}

/** Starts `dockerd` (a cached one: its own folder first on PATH, for docker-proxy) on the default socket. */
export async function startSystemEngine(dockerd: string): Promise<SystemEngine> {
  const saved = {
    iptables: sh("iptables-save", []),
    ip6tables: sh("ip6tables-save", []),
    sysctls: SYSCTLS.map((path) => readFileSync(path, "utf8").trim()),
    links: new Set(linkNames()),
  };
  // The group a user joins to use the engine without sudo.
  sh("groupadd", ["-f", "docker"]);
  const dir = mkdtempSync(join(tmpdir(), "docknet-system-engine-"));
  const log = join(dir, "dockerd.log");
  writeFileSync(log, "");
  const child = spawn(
    dockerd,
    [
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--host",
      `unix://${SOCKET}`,
      "--group",
      "docker",
    ],
    {
      stdio: ["ignore", "ignore", "ignore"],
      detached: true,
      env: { ...process.env, PATH: `${dirname(dockerd)}:${process.env.PATH}` },
    },
  );
  child.unref();
  const stop = async () => {
    if (child.pid && !(await terminateProcess(child.pid, 20_000))) process.kill(child.pid, "SIGKILL");
    // What dockerd changed on the host goes back as it was.
    for (const name of linkNames())
      if (!saved.links.has(name)) execFileSync("ip", ["link", "del", name], { stdio: "ignore" });
    restoreFirewall("iptables", saved.iptables);
    restoreFirewall("ip6tables", saved.ip6tables);
    SYSCTLS.forEach((path, i) => writeFileSync(path, `${saved.sysctls[i]}\n`));
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(dir))
      .sort((a, b) => b.length - a.length);
    for (const mount of mounts) execFileSync("umount", ["-l", mount], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
    rmSync(SOCKET, { force: true });
  };
  const up = await waitFor(async () => (await pingEngine(`unix://${SOCKET}`, 1000)) === undefined, 30_000, 200);
  if (!up) {
    const tail = readFileSync(log, "utf8").slice(-500);
    await stop();
    throw new Error(`the system dockerd did not answer on ${SOCKET}: ${tail}`);
  }
  const version = sh(dockerd, ["--version"]).trim();
  return { dockerHost: `unix://${SOCKET}`, version, pid: child.pid!, stop };
}

/** A user in group `docker` with no sudo, as most desktop users run Docker; removed by the returned function. */
export function dockerGroupUser(name = "docknet-user"): { name: string; uid: number; remove(): void } {
  if (
    !sh("getent", ["passwd"])
      .split("\n")
      .some((l) => l.startsWith(`${name}:`))
  )
    sh("useradd", ["--no-create-home", "--shell", "/bin/sh", "-G", "docker", name]);
  const uid = Number(sh("id", ["-u", name]).trim());
  return { name, uid, remove: () => void execFileSync("userdel", [name], { stdio: "ignore" }) };
}
