import type Docker from "dockerode";
import type { OutsideHost } from "./engine/outside-host.js";
import { runInNetns, type NetnsRef } from "./engine/netns.js";
import { defaultBridgeNameOf, engineFamily, engineProfile, type EngineProfile } from "./engine-profile.js";
import { runCommand } from "./host-command.js";
import { missingKernelOptions, readLocalKernelConfig, type KernelTier } from "./kernel-config.js";
import { sysctlPath } from "./sysctl-path.js";

/** Facts about an engine that scenarios may need; detected once per engine. */
export interface Capabilities {
  readonly engineKind: "current" | "private";
  readonly engineVersion: string;
  readonly apiVersion: string;
  readonly kernel: string;
  readonly os: string;
  readonly osType: string;
  readonly architecture: string;
  /** Network drivers the engine offers (/info Plugins.Network). */
  readonly networkDrivers: string[];
  /** Whether the engine has its default `bridge` network (absent with --bridge=none). */
  readonly defaultBridge: boolean;
  /** The default bridge's name: `bridge` (Docker), `podman` (Podman). */
  readonly defaultBridgeName: string;
  /**
   * For an engine of another family serving Docker's API (Podman): the Docker Engine version
   * whose API it serves (API 1.41 is Engine 20.10). Version keys (since, engineAtLeast) compare
   * this, as a client of that API would; absent for Docker itself.
   */
  readonly servesDockerApiOf?: string;
  readonly swarm: string;
  readonly rootless: boolean;
  /** Family, mode and firewall of the engine (engine-profile.ts), in every report. */
  readonly profile: EngineProfile;
  /** The outside world docknet built beside the engine (its own engines, or a local one as root). */
  readonly outsideHost?: OutsideHost;
  /** Why there is no outside host, when docknet tried to build one beside the current engine. */
  readonly outsideHostMissing?: string;
  /** Whether docknet can run commands on the engine's host (in its network namespace). */
  readonly engineHostAccess: boolean;
  /** Why it cannot, when docknet knows (not root, --no-helper, a remote engine). */
  readonly engineHostMissing?: string;
  /** The interface the user named for macvlan networks (`--macvlan-parent`). */
  readonly macvlanParent?: string;
  /** The daemon.json a private engine was started with ({} when none); absent for the current engine. */
  readonly daemonConfig?: Readonly<Record<string, unknown>>;
  /** The network namespace a private engine lives in (docknet can read its firewall there). */
  readonly engineNetns?: string;
  /**
   * For each kernel feature, the options the engine's kernel lacks (empty: present). Known when the
   * engine runs on this machine (its kernel is ours); absent for a remote engine.
   */
  readonly kernelMissing?: Readonly<Record<KernelTier, readonly string[]>>;
  /** The nodes multi-host scenarios run on, when the run has them. */
  readonly cluster?: ClusterFacts;
  /** Kernel parameters of the engine's host namespace, when docknet can read them (its own engines, or the local one as root). */
  readonly sysctls?: Readonly<Record<string, string>>;
  /** The iptables docknet would read the engine's rules with: "nf_tables" or "legacy". */
  readonly iptablesBackend?: string;
  /** Whether docknet runs as root and can make network namespaces (private engines, outside hosts, labs). */
  readonly root: boolean;
  /** The Docker Compose v2 the compose scenarios run (docknet's cached one, else one on PATH). */
  readonly compose?: { readonly version: string; readonly binary: string };
}

/** The kernel parameters scenarios and `engine info` care about. */
export const ENGINE_SYSCTLS = [
  "net.ipv4.ip_forward",
  "net.ipv6.conf.all.disable_ipv6",
  "net.ipv6.conf.all.forwarding",
  "net.bridge.bridge-nf-call-iptables",
  "net.bridge.bridge-nf-call-ip6tables",
] as const;

export interface ClusterFacts {
  readonly nodes: number;
  /** docknet's own lab: scenarios may re-form its swarm, make nodes leave, replace ingress. */
  readonly disposable: boolean;
  readonly description: string;
}

/** A capability a scenario needs, and the sentence that says it is missing. */
export interface Requirement {
  readonly name: string;
  /** undefined when met; otherwise the missing engine fact, in words. */
  missing(capabilities: Capabilities): string | undefined;
}

/** Reads the engine's facts through the lab's connection. */
export async function detectCapabilities(
  docker: Docker,
  engine: {
    kind: Capabilities["engineKind"];
    dockerHost: string;
    remote?: string;
    outsideHost?: OutsideHost;
    netns?: string;
    hostNetns?: NetnsRef;
    outsideHostMissing?: string;
    engineHostMissing?: string;
    /** The engine's host runs firewalld docknet started (Engine.firewalld). */
    firewalld?: { readonly dbusAddress: string };
  },
  daemonConfig?: Readonly<Record<string, unknown>>,
): Promise<Capabilities> {
  // An engine behind a unix socket (or one docknet started) shares this machine's kernel.
  const local = engine.kind === "private" || (engine.dockerHost.startsWith("unix://") && !engine.remote);
  const kernel = local ? readLocalKernelConfig() : undefined;
  const root = process.getuid?.() === 0;
  const hostNetns = engine.hostNetns ?? engine.netns;
  const [sysctls, iptablesBackend] =
    local && root
      ? await Promise.all([readSysctls(hostNetns), readIptablesBackend(hostNetns)])
      : [undefined, undefined];
  const [info, version, networks] = await Promise.all([docker.info(), docker.version(), docker.listNetworks()]);
  const securityOptions: string[] = info.SecurityOptions ?? [];
  const podman = engineFamily(version) === "podman";
  const defaultBridgeName = defaultBridgeNameOf(engineFamily(version));
  const dockerEquivalent = dockerVersionOfApi(version.ApiVersion);
  return {
    engineKind: engine.kind,
    engineVersion: version.Version,
    apiVersion: version.ApiVersion,
    kernel: info.KernelVersion ?? version.KernelVersion ?? "unknown",
    os: info.OperatingSystem ?? "unknown",
    osType: info.OSType ?? version.Os ?? "unknown",
    architecture: info.Architecture ?? version.Arch ?? "unknown",
    // Podman lists its network plugins only; host and none are modes it always has (podman-run(1) --network).
    networkDrivers: [...new Set([...(info.Plugins?.Network ?? []), ...(podman ? ["host", "null"] : [])])],
    // Podman's compatible API lists its default network as `bridge` too.
    defaultBridge: networks.some((n) => n.Name === "bridge" && n.Driver === "bridge"),
    defaultBridgeName,
    ...(podman && dockerEquivalent ? { servesDockerApiOf: dockerEquivalent } : {}),
    swarm: info.Swarm?.LocalNodeState ?? "inactive",
    rootless: securityOptions.some((o) => o.includes("rootless")),
    profile: engineProfile({
      version,
      info: info as { SecurityOptions?: string[]; FirewallBackend?: { Driver?: string } },
      ...(iptablesBackend ? { iptablesBackend } : {}),
      ...(engine.firewalld ? { firewalld: true } : {}),
    }),
    ...(engine.outsideHost ? { outsideHost: engine.outsideHost } : {}),
    ...(engine.outsideHostMissing ? { outsideHostMissing: engine.outsideHostMissing } : {}),
    engineHostAccess: hostNetns !== undefined,
    ...(hostNetns === undefined && engine.engineHostMissing ? { engineHostMissing: engine.engineHostMissing } : {}),
    ...(engine.kind === "private" ? { daemonConfig: daemonConfig ?? {} } : {}),
    ...(engine.netns ? { engineNetns: engine.netns } : {}),
    ...(kernel ? { kernelMissing: missingKernelOptions(kernel) } : {}),
    ...(sysctls ? { sysctls } : {}),
    ...(iptablesBackend ? { iptablesBackend } : {}),
    root,
  };
}

/** Runs a command in the engine host's namespace, or here. */
function inEngineHost(netns: NetnsRef | undefined, argv: string[]) {
  return netns ? runInNetns(netns, argv, 5000) : runCommand(argv[0]!, argv.slice(1), { timeoutMs: 5000 });
}

async function readSysctls(netns: NetnsRef | undefined): Promise<Record<string, string>> {
  // One process for all of them; a parameter the kernel does not have reads as "absent".
  const paths = ENGINE_SYSCTLS.map((name) => sysctlPath(name));
  const script = paths.map((path) => `cat ${path} 2>/dev/null || echo absent`).join("; ");
  const out = await inEngineHost(netns, ["sh", "-c", script]);
  const values = out.stdout.trim().split("\n");
  return Object.fromEntries(ENGINE_SYSCTLS.map((name, i) => [name, values[i]?.trim() ?? "absent"]));
}

async function readIptablesBackend(netns: NetnsRef | undefined): Promise<string | undefined> {
  const out = await inEngineHost(netns, ["iptables", "--version"]);
  return /\((nf_tables|legacy)\)/.exec(out.stdout)?.[1];
}

/** Compares dotted versions numerically: "20.10.24" < "28.0". Suffixes like "+dfsg1" are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .replace(/[^0-9.].*$/, "")
      .split(".")
      .map(Number);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

export function versionAtLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

/** The requirements scenarios can name. */
/** Why a rootless engine has no LAN of docknet's: the link docknet makes is in a namespace dockerd does not see. */
const ROOTLESS_LAN =
  "engine is rootless: its network namespace is RootlessKit's, and the LAN link docknet made is outside it";

export const needs = {
  userlandProxy: {
    name: "userland proxy",
    missing: (c) =>
      c.daemonConfig?.["userland-proxy"] === false
        ? "engine runs without the userland proxy (userland-proxy: false)"
        : undefined,
  },
  engineNamespace: {
    name: "engine namespace",
    missing: (c) =>
      c.rootless
        ? "engine is rootless: its daemon runs in RootlessKit's namespaces, which docknet neither prepares nor reconfigures"
        : c.engineNetns
          ? undefined
          : "engine is not a private engine of docknet's: docknet changes firewalls, resolvers and daemon settings only on its own engines' hosts",
  },
  linuxEngine: {
    name: "linux engine",
    missing: (c) => (c.osType === "linux" ? undefined : `engine runs ${c.osType} containers, not linux`),
  },
  defaultBridge: {
    name: "default bridge",
    missing: (c) =>
      c.defaultBridge ? undefined : "engine has no default bridge network (daemon runs with --bridge=none)",
  },
  hostNetwork: {
    name: "host network driver",
    missing: (c) =>
      c.networkDrivers.includes("host")
        ? c.rootless
          ? "engine is rootless: the host network is RootlessKit's namespace, not the host's"
          : undefined
        : "engine has no host network driver",
  },
  engineHost: {
    name: "engine host",
    missing: (c) =>
      c.engineHostAccess
        ? undefined
        : `docknet cannot run commands on the engine's host: ${c.engineHostMissing ?? "it does so on its own engines, and on a local engine when run as root"}`,
  },
  outsideHost: {
    name: "outside host",
    missing: (c) =>
      c.outsideHost
        ? undefined
        : (c.outsideHostMissing ??
          "no outside host: docknet builds one (a namespace behind a veth) beside its own engines, or a local engine when run as root, never on a real network"),
  },
  /** A firewalld on the engine's host that docknet started, on a bus of the engine's own. */
  firewalld: {
    name: "firewalld",
    missing: (c): string | undefined =>
      c.profile.firewall.includes("firewalld") && c.engineNetns
        ? undefined
        : "engine host runs no firewalld of docknet's: docknet run --firewall firewalld (or --profile docker-firewalld) starts one beside a private dockerd",
  },
  /** The outside host routes straight to container addresses, through the engine's host (no NAT on the way in). */
  routeToContainers: {
    name: "a route to containers",
    missing: (c): string | undefined =>
      c.rootless
        ? "engine is rootless: container addresses live in RootlessKit's namespace, which nothing outside it routes to (Rootless mode › Troubleshooting › IPAddress shown in docker inspect is unreachable)"
        : needs.outsideHost.missing(c),
  },
  /** A LAN docknet made itself (an outside link), where it may look from the LAN's side. */
  docknetLan: {
    name: "docknet's own LAN",
    missing: (c): string | undefined =>
      c.macvlanParent
        ? `the LAN behind --macvlan-parent ${c.macvlanParent} is yours, not docknet's: docknet sends nothing there but to its own containers, so it cannot look from the LAN's side`
        : c.rootless
          ? ROOTLESS_LAN
          : needs.outsideHost.missing(c),
  },
  /** A parent for macvlan networks: the one the user named, or docknet's own link to its outside host. */
  macvlanParent: {
    name: "macvlan parent",
    missing: (c): string | undefined =>
      c.rootless && !c.macvlanParent
        ? ROOTLESS_LAN
        : c.macvlanParent
          ? needs.engineHost.missing(c)
          : needs.outsideHost.missing(c),
  },
  compose: {
    name: "Docker Compose v2",
    missing: (c) =>
      c.compose
        ? undefined
        : "no Docker Compose v2 at hand: docknet engine compose fetches Debian's (or put docker-compose v2 on PATH)",
  },
  multiHost: {
    name: "multi-host lab",
    missing: (c) =>
      c.cluster
        ? undefined
        : "needs several engines in one swarm: docknet run --lab 3 brings docknet's own up (or --nodes HOST,HOST… names your swarm's nodes)",
  },
  disposableSwarm: {
    name: "docknet's own swarm",
    missing: (c) =>
      c.cluster?.disposable === false
        ? "re-forms the swarm or takes nodes out of it: runs only on docknet's own lab, never on a swarm docknet did not make"
        : undefined,
  },
  driver: (driver: string): Requirement => ({
    name: `${driver} driver`,
    missing: (c) =>
      c.networkDrivers.includes(driver)
        ? undefined
        : `engine has no ${driver} network driver (has ${c.networkDrivers.join(", ")})`,
  }),
  /** A kernel feature; unknown kernels (remote engines) are given the benefit of the doubt. */
  kernel: (tier: KernelTier, why: string): Requirement => ({
    name: `kernel ${tier}`,
    missing: (c) => {
      const absent = c.kernelMissing?.[tier] ?? [];
      return absent.length ? `kernel has no ${absent.join(", ")} (${why})` : undefined;
    },
  }),
  engineAtLeast: (minimum: string, why: string): Requirement => ({
    name: `${ENGINE_VERSION_REQUIREMENT}${minimum}`,
    missing: (c) =>
      versionAtLeast(comparableVersion(c), minimum)
        ? undefined
        : c.servesDockerApiOf
          ? `engine ${c.engineVersion} serves the API of Docker ${c.servesDockerApiOf}, older than ${minimum} (${why})`
          : `engine ${c.engineVersion} is older than ${minimum} (${why})`,
  }),
  composeAtLeast: (minimum: string, why: string): Requirement => ({
    name: `Docker Compose >= ${minimum}`,
    missing: (c) =>
      !c.compose
        ? needs.compose.missing(c)
        : versionAtLeast(c.compose.version, minimum)
          ? undefined
          : `Docker Compose ${c.compose.version} is older than ${minimum} (${why}; docknet engine compose sid fetches a newer one)`,
  }),
} satisfies Record<string, Requirement | ((...args: never[]) => Requirement)>;

/** The reasons a set of requirements is not met; empty when all are. */
const ENGINE_VERSION_REQUIREMENT = "engine >= ";

/** The Docker Engine release that introduced each API version (Docker's API version history). */
const DOCKER_API_RELEASES: Readonly<Record<string, string>> = {
  "1.40": "19.03",
  "1.41": "20.10",
  "1.42": "23.0",
  "1.43": "24.0",
  "1.44": "25.0",
  "1.45": "26.0",
  "1.46": "27.0",
  "1.47": "27.3",
  "1.48": "28.0",
  "1.49": "28.2",
  "1.50": "28.3",
  "1.51": "28.4",
  "1.52": "29.0",
};

export function dockerVersionOfApi(apiVersion: string | undefined): string | undefined {
  return apiVersion ? DOCKER_API_RELEASES[apiVersion] : undefined;
}

/** The version version keys compare: Docker's own, or the Docker API's an engine of another family serves. */
export const comparableVersion = (c: Pick<Capabilities, "engineVersion" | "servesDockerApiOf">): string =>
  c.servesDockerApiOf ?? c.engineVersion;

/** A requirement on the engine's version alone (needs.engineAtLeast): known before any engine of that version starts. */
export const isEngineVersionRequirement = (r: Requirement): boolean => r.name.startsWith(ENGINE_VERSION_REQUIREMENT);

/**
 * Whether requirements could go unmet on an engine like this one started without its outside host.
 * Each requirement is asked with and without it; one unmet here already, or when the engine has no
 * outside host to compare with, is counted as needing one (the cautious answer builds it).
 */
export function needOutsideHost(requirements: readonly Requirement[], capabilities: Capabilities): boolean {
  if (!capabilities.outsideHost) return requirements.length > 0;
  const { outsideHost: _built, ...without } = capabilities;
  return requirements.some((r) => r.missing(capabilities) !== undefined || r.missing(without) !== undefined);
}

export function missingRequirements(requirements: readonly Requirement[], capabilities: Capabilities): string[] {
  return requirements.map((r) => r.missing(capabilities)).filter((reason): reason is string => reason !== undefined);
}

/** Whether an engine started with `actual` has every setting of `wanted` (as JSON values). */
export function daemonConfigSatisfies(
  actual: Readonly<Record<string, unknown>> | undefined,
  wanted: Readonly<Record<string, unknown>>,
): boolean {
  if (!actual) return false;
  return Object.entries(wanted).every(([key, value]) => JSON.stringify(actual[key]) === JSON.stringify(value));
}
