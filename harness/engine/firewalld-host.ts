import { spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineUnavailable } from "../exit-codes.js";
import { findProgram, runCommand } from "../host-command.js";
import { waitFor } from "../polling.js";
import { enterNetns, type NetnsRef } from "./netns.js";

/**
 * A private engine's host running firewalld (issue 18's firewall axis; FW-08): Debian's firewalld
 * in the engine's network namespace, on a D-Bus system bus of the engine's own (dbus-daemon on a
 * socket in its directory), with a copy of /etc/firewalld as its configuration, so that nothing
 * of this machine's firewalld, bus or configuration is touched. dockerd, and firewall-cmd on the
 * engine's host, find that bus through DBUS_SYSTEM_BUS_ADDRESS.
 */

export const FIREWALLD_INSTALL = "apt-get install -y --no-install-recommends firewalld";

export async function firewalldPrerequisites(): Promise<string | undefined> {
  for (const tool of ["firewalld", "firewall-cmd", "dbus-daemon"])
    if (!(await findProgram(tool))) return `${tool} is not installed: ${FIREWALLD_INSTALL}`;
  if (!existsSync("/etc/firewalld") && !existsSync("/usr/lib/firewalld"))
    return `firewalld has no configuration (/etc/firewalld, /usr/lib/firewalld): ${FIREWALLD_INSTALL}`;
  return undefined;
}

export interface FirewalldHost {
  /** DBUS_SYSTEM_BUS_ADDRESS for dockerd and firewall-cmd. */
  readonly dbusAddress: string;
  readonly dbusPid: number;
  readonly firewalldPid: number;
  /** firewalld makes /run/firewalld when it is missing: removed with the engine when docknet's start made it. */
  readonly madeRunDir: boolean;
}

/** The engine's own system bus: anyone on this machine may use it (it is root's, in the engine's directory). */
const busConfig = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

/** `firewall-cmd ARGS` against an engine's firewalld. */
export function firewallCmd(dbusAddress: string, args: readonly string[]) {
  return runCommand("firewall-cmd", args, { env: { DBUS_SYSTEM_BUS_ADDRESS: dbusAddress }, timeoutMs: 30_000 });
}

/** Starts the bus and firewalld for an engine in `netns`; resolves once firewall-cmd --state says running. */
export async function startFirewalld(dir: string, netns: NetnsRef): Promise<FirewalldHost> {
  const root = join(dir, "firewalld");
  mkdirSync(root, { recursive: true });
  const socket = join(root, "system_bus_socket");
  writeFileSync(join(root, "bus.conf"), busConfig(socket));
  const bus = await runCommand("dbus-daemon", ["--config-file", join(root, "bus.conf"), "--fork", "--print-pid"]);
  const dbusPid = Number(bus.stdout.trim().split("\n")[0]);
  if (bus.code !== 0 || !(dbusPid > 0)) throw new EngineUnavailable(`dbus-daemon for firewalld: ${bus.stderr.trim()}`);
  const dbusAddress = `unix:path=${socket}`;
  const madeRunDir = !existsSync(RUN_DIR);
  // Its configuration is a copy of this machine's: what Docker adds (the docker zone) stays with the engine.
  cpSync(existsSync("/etc/firewalld") ? "/etc/firewalld" : "/usr/lib/firewalld", join(root, "etc"), {
    recursive: true,
  });
  const log = openSync(join(root, "firewalld.log"), "a");
  const [nsenter, ...enter] = enterNetns(netns);
  const child = spawn(
    nsenter!,
    [...enter, "firewalld", "--nofork", "--nopid", "--system-config", join(root, "etc"), "--log-target", "console"],
    { stdio: ["ignore", log, log], detached: true, env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: dbusAddress } },
  );
  closeSync(log);
  child.unref();
  const running = await waitFor(
    async () => (await firewallCmd(dbusAddress, ["--state"])).stdout.trim() === "running",
    30_000,
    500,
  );
  if (!running || child.pid === undefined)
    throw new EngineUnavailable(`firewalld did not start in ${netns} (its log: ${join(root, "firewalld.log")})`);
  return { dbusAddress, dbusPid, firewalldPid: child.pid, madeRunDir };
}

const RUN_DIR = "/run/firewalld";

/** What stopping an engine's firewalld leaves to remove on this machine: /run/firewalld, when its start made it. */
export function removeFirewalldLeftovers(host: FirewalldHost): void {
  try {
    if (host.madeRunDir && readdirSync(RUN_DIR).length === 0) rmdirSync(RUN_DIR);
  } catch {
    // already gone, or another firewalld uses it now
  }
}
