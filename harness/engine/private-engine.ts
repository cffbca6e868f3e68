import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineUnavailable } from "../exit-codes.js";
import { findProgram, isProcessAlive, runCommand, runOrFail, terminateProcess } from "../host-command.js";
import { findStaticBusybox } from "../static-busybox.js";
import { runsThroughHelper } from "../vantage.js";
import { pingEngine } from "./docker-host.js";
import type { Engine } from "./engine.js";
import { createNamespace, enterNetns, listNamespaces, removeNamespace } from "./netns.js";
import { createOutsideHost, type OutsideHost } from "./outside-host.js";
import { chosenIptablesDir } from "./iptables-variant.js";
import {
  firewalldPrerequisites,
  removeFirewalldLeftovers,
  startFirewalld,
  type FirewalldHost,
} from "./firewalld-host.js";
import {
  createRootlessUser,
  rootlessUserOf,
  rootlessUsers,
  prepareRootless,
  removeRootlessUser,
  rootlessCommand,
  rootlessKitNetns,
  rootlessPrerequisites,
} from "./rootless-engine.js";
import { scaled } from "../time-scale.js";

/** The static busybox for the outside host's server, or undefined (then there is no outside host). */
function staticBusybox(): string | undefined {
  try {
    return findStaticBusybox();
  } catch {
    return undefined;
  }
}

/** What a private engine leaves on disk so that `docknet clean` can stop it after a crash. */
export interface PrivateEngineState {
  readonly id: string;
  readonly ownerPid: number;
  readonly netns: string;
  readonly dir: string;
  readonly startedAt: string;
  dockerdPid?: number;
  /** The dockerd binary the engine runs (a restart runs the same). */
  dockerd?: string;
  /** Instead of dockerd: the podman binary whose Docker-compatible API service the engine is. */
  podman?: string;
  /** A rootless engine: the unprivileged user docknet made for it (removed with it). */
  rootlessUser?: string;
  /** An engine whose host runs firewalld: its bus and its firewalld (stopped with it). */
  firewalld?: FirewalldHost;
  outsideNetns?: string;
  /** The process holding the engine's mount namespace (see engineMountNamespace). */
  mountHolderPid?: number;
  /** The multi-host lab this engine is a node of: the lab, not the engine's starter, decides when it goes. */
  labId?: string;
}

/** A node's link to a multi-host lab's bridge, in place of an outside host. */
export interface LabUplink {
  readonly labId: string;
  /** The namespace holding the lab bridge. */
  readonly hubNetns: string;
  readonly bridge: string;
  /** The node's address on the lab network, with its prefix ("10.214.0.11/24"). */
  readonly address: string;
}

export interface PrivateEngineOptions {
  /** Written as the daemon's daemon.json; `{}` when absent. */
  readonly daemonConfig?: Record<string, unknown>;
  /** The dockerd binary; the one on PATH when absent. */
  readonly dockerd?: string;
  /** How long to wait for /_ping. */
  readonly readyTimeoutMs?: number;
  /** Makes the engine a node of a multi-host lab, linked to the lab bridge (and with no outside host). */
  readonly uplink?: LabUplink;
  /**
   * Serve Podman's Docker-compatible API instead (`podman system service`, with netavark and
   * aardvark-dns) from this podman binary: the same namespace, outside host, state file and clean.
   */
  readonly podman?: string;
  /** With `podman`: the directory of a fetched Podman's helpers (conmon, netavark, aardvark-dns, runtimes, nft). */
  readonly podmanHelpers?: string;
  /**
   * Run dockerd rootless (dockerd-rootless.sh: RootlessKit, slirp4netns) as an unprivileged user
   * made for this engine, in the same namespace, with the same outside host, state file and clean.
   */
  readonly rootless?: boolean;
  /** The engine's host runs firewalld (on a bus of the engine's own), which dockerd then uses. */
  readonly firewalld?: boolean;
  /**
   * false: no outside host beside the engine, for an engine started for scenarios none of which
   * needs one (it costs a namespace, a web server and a DNS server in a Node process of its own).
   */
  readonly outsideHost?: boolean;
}

/** Where private engines keep their run directories (data-root, exec-root, socket, log). */
export function stateRoot(): string {
  return process.env.DOCKNET_STATE_DIR ?? join(tmpdir(), "docknet");
}

function enginesDir(): string {
  return join(stateRoot(), "engines");
}

/** Checks what a private engine needs, without creating anything. */
export async function privateEnginePrerequisites(dockerd?: string): Promise<string | undefined> {
  const binary = dockerd ?? (await findProgram("dockerd"));
  return namespacePrerequisites(
    "dockerd",
    !binary || !existsSync(binary)
      ? "dockerd is not installed: apt-get install -y docker.io iptables busybox-static (docknet starts its own throwaway dockerd; it never touches an existing engine)"
      : undefined,
  );
}

/**
 * What any private engine needs, whichever daemon it runs: docknet as root on this machine, the
 * daemon itself (`daemonMissing` says why not), and the namespace tools; the first that is missing.
 */
async function namespacePrerequisites(daemon: string, daemonMissing: string | undefined): Promise<string | undefined> {
  if (runsThroughHelper()) {
    return "a private engine needs docknet itself to run as root on this machine (sudo docknet run …): through the helper container docknet uses the current engine only";
  }
  if (process.getuid?.() !== 0) {
    return `a private engine needs root (it starts ${daemon} in its own network namespace): run as root, or point DOCKER_HOST at a running engine`;
  }
  if (daemonMissing) return daemonMissing;
  for (const tool of ["ip", "nsenter", "unshare"]) {
    if (!(await findProgram(tool))) return `${tool} is not installed: apt-get install -y iproute2 util-linux`;
  }
  return undefined;
}

/**
 * Starts a throwaway dockerd in its own network namespace, with its own
 * data-root, exec-root, pidfile and socket. A second dockerd in the host's own
 * namespace would take over docker0 and break the first engine, so private
 * engines always live in a namespace of their own (entered with nsenter, not
 * `ip netns exec`, which remounts /sys and hides the cgroups).
 */
export async function startPrivateEngine(options: PrivateEngineOptions = {}): Promise<Engine> {
  const missing = options.podman
    ? await podmanPrerequisites(options.podman, options.podmanHelpers)
    : ((await privateEnginePrerequisites(options.dockerd)) ??
      (options.rootless ? await rootlessPrerequisites() : undefined) ??
      (options.firewalld ? await firewalldPrerequisites() : undefined));
  if (missing) throw new EngineUnavailable(missing);
  const dockerd = options.podman ? undefined : (options.dockerd ?? (await findProgram("dockerd"))!);

  const id = randomBytes(4).toString("hex");
  const dir = namesOf(id).dir;
  const state: PrivateEngineState = {
    ...namesOf(id),
    ownerPid: process.pid,
    startedAt: new Date().toISOString(),
    ...(dockerd ? { dockerd } : {}),
    ...(options.podman ? { podman: options.podman } : {}),
    ...(options.uplink ? { labId: options.uplink.labId } : {}),
  };
  mkdirSync(dir, { recursive: true });
  // The state file comes first, so that a crash at any later step leaves something `clean` can find.
  writeState(state);
  const socket = join(dir, "docker.sock");
  let outsideHost: OutsideHost | undefined;
  try {
    await createNamespace(state.netns);
    const busybox = options.uplink || options.outsideHost === false ? undefined : staticBusybox();
    if (options.uplink) await linkToLab(state, options.uplink);
    if (busybox) {
      state.outsideNetns = `${state.netns}-out`;
      writeState(state);
      outsideHost = await createOutsideHost(state.netns, state.outsideNetns, id, dir, busybox);
    }
    writeFileSync(join(dir, "daemon.json"), JSON.stringify(options.daemonConfig ?? {}, null, 2));
    if (options.firewalld) {
      state.firewalld = await startFirewalld(dir, state.netns);
      writeState(state);
    }
    if (options.podman)
      await launchPodman(state, options.podman, options.podmanHelpers, options.readyTimeoutMs ?? 30_000);
    else if (options.rootless) await launchRootless(state, dockerd!, options.readyTimeoutMs ?? 30_000);
    else await launchDockerd(state, dockerd!, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stopPrivateEngine(state);
    throw error;
  }
  const version = await engineVersion(socket);
  const daemon = options.podman
    ? "podman"
    : options.rootless
      ? `rootless dockerd (user ${state.rootlessUser})`
      : "dockerd";
  const rootlessKit = options.rootless ? rootlessKitNetns(dir) : undefined;
  return {
    kind: "private",
    dockerHost: `unix://${socket}`,
    description: `private ${daemon} ${version} in network namespace ${state.netns}`,
    netns: state.netns,
    ...(rootlessKit ? { hostNetns: rootlessKit } : {}),
    ...(state.firewalld ? { firewalld: { dbusAddress: state.firewalld.dbusAddress } } : {}),
    logFile: join(dir, "dockerd.log"),
    resolvConf: engineResolvConf(dir),
    ...(outsideHost ? { outsideHost } : {}),
    stop: () => stopPrivateEngine(state),
    lost: async () => deaths.get(state.id),
    // daemon.json is dockerd's: Podman is configured otherwise (containers.conf), and not restarted by docknet;
    // a rootless engine is not restarted either (its restarts are RootlessKit's, with the namespaces anew).
    ...(options.podman || options.rootless
      ? {}
      : {
          async restart(daemonConfig: Record<string, unknown>) {
            writeFileSync(join(dir, "daemon.json"), JSON.stringify(daemonConfig, null, 2));
            await restartDockerd(state, options.readyTimeoutMs);
          },
        }),
  };
}

/** What a private Podman needs: what any private engine does, with podman, netavark and aardvark-dns as its daemon. */
async function podmanPrerequisites(podman: string, helpers: string | undefined): Promise<string | undefined> {
  const install = helpers
    ? "docknet engine podman fetches it again"
    : "apt-get install -y --no-install-recommends podman netavark aardvark-dns";
  let missing = existsSync(podman) ? undefined : `${podman} is not installed: ${install}`;
  for (const tool of ["netavark", "aardvark-dns"]) {
    const found = helpers
      ? existsSync(join(helpers, tool))
      : existsSync(`/usr/lib/podman/${tool}`) || (await findProgram(tool)) !== undefined;
    if (!missing && !found) missing = `${tool} is not installed: ${install}`;
  }
  return namespacePrerequisites("podman", missing);
}

/**
 * Podman's settings for a private engine: no default ulimits (its default nofile limit can exceed a
 * machine's hard limit, and every container then fails with "error setting rlimit type 7"),
 * cgroupfs (no systemd here), events in a file, and netavark as the network backend. A fetched
 * Podman runs the helpers fetched with it; crun only where the cgroups are v2 alone (crun refuses
 * a hybrid hierarchy: "cgroups in hybrid mode not supported"), else runc.
 */
export function podmanContainersConf(helpers: string | undefined, cgroupV2Only: boolean): string {
  const fetched = helpers
    ? [
        `helper_binaries_dir = [${JSON.stringify(helpers)}]`,
        `conmon_path = [${JSON.stringify(join(helpers, "conmon"))}]`,
        `runtime = "${cgroupV2Only ? "crun" : "runc"}"`,
        "",
        "[engine.runtimes]",
        `crun = [${JSON.stringify(join(helpers, "crun"))}]`,
        `runc = [${JSON.stringify(join(helpers, "runc"))}]`,
      ]
    : [];
  return [
    "[containers]",
    "default_ulimits = []",
    "",
    "[engine]",
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    ...fetched,
    "",
    "[network]",
    'network_backend = "netavark"',
    "",
  ].join("\n");
}

/** Whether /sys/fs/cgroup is the v2 hierarchy alone (no v1 controllers beside it). */
function cgroupV2Only(): boolean {
  try {
    return readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .some((line) => /^\S+ \/sys\/fs\/cgroup cgroup2 /.test(line));
  } catch {
    return false;
  }
}

/** `podman system service` in the engine's namespaces, with storage, run state and networks of its own. */
async function launchPodman(
  state: PrivateEngineState,
  podman: string,
  helpers: string | undefined,
  readyTimeoutMs: number,
): Promise<void> {
  const { dir } = state;
  writeFileSync(join(dir, "containers.conf"), podmanContainersConf(helpers, cgroupV2Only()));
  await launchDaemon(
    state,
    [
      podman,
      "--root",
      join(dir, "data"),
      "--runroot",
      join(dir, "exec"),
      "--network-config-dir",
      join(dir, "networks"),
      "--tmpdir",
      join(dir, "tmp"),
      "system",
      "service",
      "--time=0",
      `unix://${join(dir, "docker.sock")}`,
    ],
    {
      CONTAINERS_CONF: join(dir, "containers.conf"),
      // netavark runs nft by name: the fetched one first.
      ...(helpers ? { PATH: `${helpers}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` } : {}),
    },
    "podman",
    readyTimeoutMs,
  );
}

/**
 * Stops the engine's dockerd as `systemctl restart docker` would (with
 * live-restore, containers keep running) and starts it again with the
 * daemon.json in its directory.
 */
async function restartDockerd(state: PrivateEngineState, readyTimeoutMs = 30_000): Promise<void> {
  if (state.dockerdPid) expectedExits.add(state.dockerdPid);
  if (state.dockerdPid && !(await terminateProcess(state.dockerdPid, 30_000))) {
    throw new EngineUnavailable(`private dockerd ${state.dockerdPid} did not stop for the restart`);
  }
  await launchDockerd(state, state.dockerd ?? (await findProgram("dockerd"))!, readyTimeoutMs);
}

/** Restarts the dockerd of a private engine known by its state file (a lab node, by its engine id). */
export async function restartPrivateEngine(engineId: string): Promise<void> {
  const state = JSON.parse(readFileSync(join(namesOf(engineId).dir, "state.json"), "utf8")) as PrivateEngineState;
  await restartDockerd(state);
}

/** A veth from the engine's namespace to the lab bridge: the node's one network card. */
async function linkToLab(state: PrivateEngineState, uplink: LabUplink): Promise<void> {
  const context = `lab node ${state.id}: `;
  const [inner, outer] = [`eth-lab`, `dnl-${state.id}`];
  await runOrFail(
    "ip",
    ["link", "add", inner, "netns", state.netns, "type", "veth", "peer", "name", outer, "netns", uplink.hubNetns],
    context,
    10_000,
  );
  await runOrFail("ip", ["-n", uplink.hubNetns, "link", "set", outer, "master", uplink.bridge, "up"], context, 10_000);
  await runOrFail("ip", ["-n", state.netns, "addr", "add", uplink.address, "dev", inner], context, 10_000);
  await runOrFail("ip", ["-n", state.netns, "link", "set", inner, "up"], context, 10_000);
}

/**
 * The /etc/resolv.conf the engine's dockerd sees: a file of the engine's own,
 * bound over the host's in a mount namespace of its own. It starts as a copy
 * of the host's; dockerd reads it for every container it starts, so a
 * scenario can give the engine another host resolver without a restart.
 */
export function engineResolvConf(dir: string): string {
  return join(dir, "resolv.conf");
}

// Binds the engine's resolv.conf ("$1") over the host's, says so, and holds the mount namespace until killed.
const HOLD_MOUNT_NAMESPACE =
  'if [ -e /etc/resolv.conf ]; then mount --bind "$1" /etc/resolv.conf || exit 125; fi; echo ready; exec sleep infinity';

/**
 * The engine's mount namespace, made once and held by a process in the
 * engine's network namespace (so it goes with the engine). Every dockerd of
 * the engine runs in it: a restarted dockerd in another one could no longer
 * exec into the containers that live-restore kept running.
 */
async function engineMountNamespace(state: PrivateEngineState): Promise<string> {
  if (state.mountHolderPid && isProcessAlive(state.mountHolderPid)) return `/proc/${state.mountHolderPid}/ns/mnt`;
  const resolvConf = engineResolvConf(state.dir);
  if (!existsSync(resolvConf))
    writeFileSync(resolvConf, existsSync("/etc/resolv.conf") ? readFileSync("/etc/resolv.conf") : "");
  const [nsenter, ...enter] = enterNetns(state.netns);
  const holder = spawn(
    nsenter!,
    [
      ...enter,
      "unshare",
      "--mount",
      "--propagation",
      "slave",
      "--",
      "sh",
      "-c",
      HOLD_MOUNT_NAMESPACE,
      "sh",
      resolvConf,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const ready = await new Promise<string | undefined>((resolve) => {
    let errors = "";
    holder.stdout.once("data", () => resolve(undefined));
    holder.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    holder.once("exit", (code) => resolve(`exited (${code}): ${errors.trim()}`));
  });
  if (ready !== undefined)
    throw new EngineUnavailable(`private engine ${state.id}: its mount namespace could not be made: ${ready}`);
  holder.stdout.destroy();
  holder.stderr.destroy();
  holder.unref();
  if (holder.pid !== undefined) state.mountHolderPid = holder.pid;
  writeState(state);
  return `/proc/${holder.pid}/ns/mnt`;
}

/** Starts dockerd in the engine's namespaces with its own roots, socket, daemon.json and resolv.conf; resolves once /_ping answers. */
async function launchDockerd(state: PrivateEngineState, dockerd: string, readyTimeoutMs: number): Promise<void> {
  const { dir } = state;
  await launchDaemon(
    state,
    [
      dockerd,
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--host",
      `unix://${join(dir, "docker.sock")}`,
      "--config-file",
      join(dir, "daemon.json"),
    ],
    // dockerd finds docker-proxy and docker-init on PATH: a fetched engine's own come first, after
    // the iptables variant the run chose (the system's dockerd sits beside the machine's own iptables).
    {
      PATH: [chosenIptablesDir(), dirname(dockerd), process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"]
        .filter(Boolean)
        .join(":"),
      // The host's firewalld, for dockerd, is the one on the engine's own bus.
      ...(state.firewalld ? { DBUS_SYSTEM_BUS_ADDRESS: state.firewalld.dbusAddress } : {}),
    },
    "dockerd",
    readyTimeoutMs,
  );
}

/**
 * dockerd-rootless.sh as a user made for the engine, in the engine's namespaces: RootlessKit makes
 * dockerd's own user, mount and network namespaces inside, and slirp4netns links them to this one.
 */
async function launchRootless(state: PrivateEngineState, dockerd: string, readyTimeoutMs: number): Promise<void> {
  const user = await createRootlessUser(state.id);
  state.rootlessUser = user.name;
  writeState(state);
  const runnable = prepareRootless(state.dir, user, dockerd, join(state.dir, "docker.sock"));
  const { argv, env } = await rootlessCommand(state.dir, user, runnable);
  await launchDaemon(state, argv, env, "rootless dockerd", readyTimeoutMs);
}

/** Starts an engine's daemon in its namespaces, logging to dockerd.log, and waits for /_ping on its socket. */
async function launchDaemon(
  state: PrivateEngineState,
  argv: readonly string[],
  env: Record<string, string>,
  name: string,
  readyTimeoutMs: number,
): Promise<void> {
  const { dir } = state;
  const socket = join(dir, "docker.sock");
  const mountNamespace = await engineMountNamespace(state);
  const log = openSync(join(dir, "dockerd.log"), "a");
  const [nsenter, ...enter] = enterNetns(state.netns);
  const child = spawn(nsenter!, [`--mount=${mountNamespace}`, ...enter, ...argv], {
    stdio: ["ignore", log, log],
    detached: true,
    env: { ...process.env, ...env },
  });
  closeSync(log);
  child.unref();
  if (child.pid !== undefined) state.dockerdPid = child.pid;
  writeState(state);
  let exited: number | null = null;
  let ready = false;
  child.once("exit", (code, signal) => {
    exited = code ?? -1;
    // An exit docknet did not ask for, once the engine was up, is a death the run must name.
    if (ready && child.pid !== undefined && !expectedExits.has(child.pid)) noteDeath(state, child.pid, code, signal);
  });
  const deadline = Date.now() + scaled(readyTimeoutMs);
  while ((await pingEngine(`unix://${socket}`, 1000)) !== undefined) {
    if (exited !== null || Date.now() > deadline) {
      const tail = readFileSync(join(dir, "dockerd.log"), "utf8").trim().split("\n").slice(-3).join(" | ");
      throw new EngineUnavailable(
        `private ${name} ${exited !== null ? `exited (${exited})` : "did not answer /_ping in time"}: ${tail}`,
      );
    }
    await sleep(100);
  }
  ready = true;
}

/** Pids of dockerd processes docknet itself stops (stop, restart): their exit is no death. */
const expectedExits = new Set<number>();
/** Engines whose dockerd died while in use, by engine id: the one line a run ends with. */
const deaths = new Map<string, string>();

/** Records a private engine's death, keeping its log where the engine's removal cannot take it. */
function noteDeath(state: PrivateEngineState, pid: number, code: number | null, signal: NodeJS.Signals | null): void {
  const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
  let log = join(state.dir, "dockerd.log");
  try {
    const kept = join(stateRoot(), "logs", `dockerd-${state.id}.log`);
    mkdirSync(dirname(kept), { recursive: true });
    copyFileSync(log, kept);
    log = kept;
  } catch {
    // the log stays where it was (it goes with the engine's directory)
  }
  deaths.set(state.id, `the private engine ${state.id} (dockerd pid ${pid}) died mid-run: ${how}; its log: ${log}`);
}

async function engineVersion(socket: string): Promise<string> {
  const { default: Docker } = await import("dockerode");
  const version = await new Docker({ socketPath: socket }).version();
  return version.Version;
}

function writeState(state: PrivateEngineState): void {
  writeFileSync(join(state.dir, "state.json"), JSON.stringify(state, null, 2));
}

/**
 * Stops a private engine and removes everything it made: the daemon and its
 * containerd and shims, the network namespace (and with it every veth and
 * iptables rule inside), the mounts under its directory, and the directory.
 * Safe to call twice, and on a half-started engine.
 */
export async function stopPrivateEngine(state: PrivateEngineState): Promise<void> {
  // Podman puts its containers' network namespaces in the host's /run/netns: they are removed with
  // its containers, and those it leaves (a service killed mid-run) are removed below.
  const podmanNamespaces = state.podman ? await removePodmanContainers(state) : [];
  const pidFile = join(state.dir, "dockerd.pid");
  const pids = new Set<number>();
  if (state.dockerdPid) pids.add(state.dockerdPid);
  if (existsSync(pidFile)) pids.add(Number(readFileSync(pidFile, "utf8").trim()));
  for (const pid of pids) {
    expectedExits.add(pid);
    if (!(await terminateProcess(pid, 15_000))) process.kill(pid, "SIGKILL");
  }
  // The engine's firewalld and its bus (the bus runs outside the engine's namespace).
  for (const pid of [state.firewalld?.firewalldPid, state.firewalld?.dbusPid])
    if (pid && !(await terminateProcess(pid, 10_000)) && isProcessAlive(pid)) process.kill(pid, "SIGKILL");
  if (state.firewalld) removeFirewalldLeftovers(state.firewalld);
  // A rootless engine's processes run in RootlessKit's namespaces, not in the engine's: they go with their user.
  if (state.rootlessUser) await removeRootlessUser(state.rootlessUser);
  // Whatever still runs inside the namespaces (shims, containers, the outside host's server) goes with them.
  if (state.outsideNetns) await removeNamespace(state.outsideNetns);
  await removeNamespace(state.netns);
  for (const name of podmanNamespaces) await removeNamespace(name);
  await unmountUnder(state.dir);
  rmSync(state.dir, { recursive: true, force: true });
}

/** Removes a private Podman's containers through its API; the names of their network namespaces (netns-…). */
async function removePodmanContainers(state: PrivateEngineState): Promise<string[]> {
  const socket = join(state.dir, "docker.sock");
  if (!existsSync(socket) || (await pingEngine(`unix://${socket}`, 2000)) !== undefined) return [];
  const { default: Docker } = await import("dockerode");
  const docker = new Docker({ socketPath: socket, timeout: 15_000 });
  const names: string[] = [];
  try {
    for (const c of await docker.listContainers({ all: true })) {
      const info = await docker
        .getContainer(c.Id)
        .inspect()
        .catch(() => undefined);
      const key = info?.NetworkSettings.SandboxKey ?? "";
      if (key.startsWith("/run/netns/")) names.push(key.slice("/run/netns/".length));
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  } catch {
    // an engine that no longer answers leaves only what the namespaces' removal takes
  }
  return names;
}

async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await runCommand("umount", ["-l", mountPoint], { timeoutMs: 5000 });
}

/** The engines of one multi-host lab, as their state files record them. */
export function engineStatesOfLab(labId: string): PrivateEngineState[] {
  const entries = existsSync(enginesDir()) ? readdirSync(enginesDir()) : [];
  return entries.flatMap((entry) => {
    try {
      const state = JSON.parse(readFileSync(join(enginesDir(), entry, "state.json"), "utf8")) as PrivateEngineState;
      return state.labId === labId ? [state] : [];
    } catch {
      return [];
    }
  });
}

/** Where engine `id` lives: its namespace and its run directory. */
function namesOf(id: string): Pick<PrivateEngineState, "id" | "netns" | "dir"> {
  return { id, netns: `docknet-${id}`, dir: join(enginesDir(), id) };
}

/** All that can be known of an engine whose state file is gone or unreadable (a rootless one's user, by its name). */
function orphanOf(id: string): PrivateEngineState {
  const names = namesOf(id);
  const user = rootlessUserOf(id);
  return {
    ...names,
    outsideNetns: `${names.netns}-out`,
    ownerPid: 0,
    startedAt: "",
    ...(user ? { rootlessUser: user } : {}),
  };
}

/**
 * Private engines whose owning process is gone: what `docknet clean` stops.
 * A namespace of docknet's with no engine directory left (a crash between
 * the two removals) counts too. Nodes of a multi-host lab that is still held
 * (`docknet lab up`) are the lab's, whoever started them.
 */
export function orphanedPrivateEngines(labIsHeld: (labId: string) => boolean = () => false): PrivateEngineState[] {
  const orphans: PrivateEngineState[] = [];
  const live = new Set<string>();
  const entries = existsSync(enginesDir()) ? readdirSync(enginesDir()) : [];
  for (const entry of entries) {
    const file = join(enginesDir(), entry, "state.json");
    const bare = orphanOf(entry);
    if (!existsSync(file)) {
      orphans.push(bare);
      continue;
    }
    try {
      const state = JSON.parse(readFileSync(file, "utf8")) as PrivateEngineState;
      if (isProcessAlive(state.ownerPid) || (state.labId !== undefined && labIsHeld(state.labId))) live.add(state.id);
      else orphans.push(state);
    } catch {
      orphans.push(bare); // a half-written state file: the directory is all there is to remove
    }
  }
  const known = new Set(orphans.map((o) => o.id));
  // A rootless engine's user outlives a crash between the removals of its namespace and its user.
  for (const netns of [...listNamespaces(), ...rootlessUsers()]) {
    const id = /^docknet-([0-9a-f]+)(?:-out)?$/.exec(netns)?.[1];
    if (!id || live.has(id) || known.has(id)) continue;
    known.add(id);
    orphans.push(orphanOf(id));
  }
  return orphans;
}
