import Docker from "dockerode";
import { dockerodeOptions, pingEngine } from "../engine/docker-host.js";
import { DEFAULT_DAEMON_JSON, findDockerdServing, type DockerdProcess } from "./dockerd-process.js";
import type { Reading, ReadingKey, Readings } from "./readings.js";
import { blindVantage, helperVantage, localVantage, type Vantage } from "./vantage.js";
import { sysctlPath } from "../sysctl-path.js";

const CI_VARIABLES = ["CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "CIRCLECI", "TF_BUILD"];

const isLocalSocket = (dockerHost: string) => dockerHost.startsWith("unix://") || dockerHost.startsWith("/");

/** How the doctor will see the engine's host, decided from facts about this machine. */
export type VantagePlan =
  { kind: "local"; dockerdPid?: number } | { kind: "helper"; why: string } | { kind: "blind"; why: string };

export function planVantage(facts: {
  dockerHost: string;
  remote?: string;
  engineAnswers: boolean;
  root: boolean;
  localDockerd?: DockerdProcess;
}): VantagePlan {
  // An ssh:// engine is reached through a socket of docknet's own on this machine; its host is still another.
  const local = isLocalSocket(facts.dockerHost) && !facts.remote;
  if (!facts.engineAnswers) {
    // No engine to ask for a helper: read this machine itself (before Docker is installed, or when it is down).
    return local
      ? { kind: "local" }
      : { kind: "blind", why: `no engine answers at ${facts.remote ?? facts.dockerHost}` };
  }
  if (local && facts.localDockerd && facts.root) return { kind: "local", dockerdPid: facts.localDockerd.pid };
  const why = !local
    ? `the engine at ${facts.remote ?? facts.dockerHost} is remote`
    : !facts.localDockerd
      ? `no dockerd on this machine serves ${facts.dockerHost}`
      : "not root, so dockerd's namespace cannot be entered";
  return { kind: "helper", why };
}

async function openVantage(plan: VantagePlan, docker: Docker): Promise<Vantage> {
  if (plan.kind === "local") return localVantage(plan.dockerdPid);
  if (plan.kind === "blind") return blindVantage(plan.why);
  try {
    return await helperVantage(docker, plan.why);
  } catch (error) {
    return blindVantage(`${plan.why}, and ${(error as Error).message}`);
  }
}

async function engineReadings(
  docker: Docker,
  problem: string | undefined,
  dockerHost: string,
): Promise<Partial<Record<ReadingKey, Reading>>> {
  const keys = ["engine.info", "engine.version", "engine.networks", "engine.containers"] as const;
  if (problem !== undefined) {
    return Object.fromEntries(
      keys.map((k) => [
        k,
        { source: `GET /${k.slice(7)}`, unavailable: `no engine answers at ${dockerHost}: ${problem}` },
      ]),
    );
  }
  const read = async (source: string, get: () => Promise<unknown>): Promise<Reading> => {
    try {
      return { source, text: JSON.stringify(await get()) };
    } catch (error) {
      return { source, unavailable: `${source}: ${(error as Error).message}` };
    }
  };
  const [info, version, networks, containers] = await Promise.all([
    read("GET /info", () => docker.info()),
    read("GET /version", () => docker.version()),
    read("GET /networks + inspect", async () =>
      Promise.all((await docker.listNetworks()).map((n) => docker.getNetwork(n.Id).inspect())),
    ),
    read("GET /containers/json + inspect", async () =>
      Promise.all((await docker.listContainers()).slice(0, 500).map((c) => docker.getContainer(c.Id).inspect())),
    ),
  ]);
  return {
    "engine.info": info,
    "engine.version": version,
    "engine.networks": networks,
    "engine.containers": containers,
  };
}

/** A program the host may not have: "not installed" is an answer, not a missing reading. */
const optional = (vantage: Vantage, command: string, absent: string) =>
  vantage.onHost([
    "sh",
    "-c",
    `command -v ${command.split(" ")[0]} >/dev/null 2>&1 || { echo '${absent}'; exit 0; }; ${command}`,
  ]);

const RESOLV_CONF = `printf '{"link":"%s","target":"%s","exists":%s}' "$(readlink /etc/resolv.conf)" "$(readlink -f /etc/resolv.conf)" "$(test -e /etc/resolv.conf && echo true || echo false)"`;

/** Takes every reading the checks need, in parallel. None of them changes anything. */
export async function collectReadings(dockerHost: string, remote?: string): Promise<Readings> {
  const docker = new Docker(dockerodeOptions(dockerHost, 10_000));
  const problem = await pingEngine(dockerHost);
  const root = process.getuid?.() === 0;
  const localDockerd =
    isLocalSocket(dockerHost) && !remote
      ? findDockerdServing(dockerHost, await localVantage(undefined).dockerdProcesses())
      : undefined;
  const plan = planVantage({
    dockerHost,
    ...(remote ? { remote } : {}),
    engineAnswers: problem === undefined,
    root,
    ...(localDockerd ? { localDockerd } : {}),
  });
  const [engine, vantage] = await Promise.all([engineReadings(docker, problem, dockerHost), openVantage(plan, docker)]);
  try {
    const processes = localDockerd ? [localDockerd] : await vantage.dockerdProcesses();
    const dockerd = findDockerdServing(dockerHost, processes) ?? (processes.length === 1 ? processes[0] : undefined);
    const sysctl = (name: string) => vantage.inEngineNetns(["cat", sysctlPath(name)]);
    const entries: Array<[ReadingKey, Promise<Reading>]> = [
      ["sysctl.net.ipv4.ip_forward", sysctl("net.ipv4.ip_forward")],
      ["sysctl.net.ipv6.conf.all.forwarding", sysctl("net.ipv6.conf.all.forwarding")],
      ["sysctl.net.ipv6.conf.all.disable_ipv6", sysctl("net.ipv6.conf.all.disable_ipv6")],
      ["sysctl.net.bridge.bridge-nf-call-iptables", sysctl("net.bridge.bridge-nf-call-iptables")],
      ["sysctl.net.bridge.bridge-nf-call-ip6tables", sysctl("net.bridge.bridge-nf-call-ip6tables")],
      ["iptables.version", vantage.onHost(["iptables", "-V"])],
      ["iptables.filter", vantage.inEngineNetns(["iptables", "-w", "5", "-S"])],
      ["iptables.nat", vantage.inEngineNetns(["iptables", "-w", "5", "-t", "nat", "-S"])],
      ["ip6tables.filter", vantage.inEngineNetns(["ip6tables", "-w", "5", "-S"])],
      ["iptables.legacy-save", vantage.inEngineNetns(["iptables-legacy-save"])],
      ["iptables.nft-save", vantage.inEngineNetns(["iptables-nft-save"])],
      ["ip.links", vantage.inEngineNetns(["ip", "-j", "-d", "link", "show"])],
      ["ip.addresses", vantage.inEngineNetns(["ip", "-j", "addr", "show"])],
      ["ip.routes", vantage.inEngineNetns(["ip", "-j", "route", "show", "table", "all"])],
      ["proc.net.tcp", vantage.inEngineNetns(["cat", "/proc/net/tcp"])],
      ["proc.net.tcp6", vantage.inEngineNetns(["cat", "/proc/net/tcp6"])],
      ["file.resolv.conf", vantage.file("/etc/resolv.conf")],
      ["file.resolv.conf.target", vantage.onHost(["sh", "-c", RESOLV_CONF])],
      ["file.daemon.json", vantage.file(dockerd?.configFile ?? DEFAULT_DAEMON_JSON)],
      [
        "kernel.config",
        vantage.onHost(["sh", "-c", "zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)"]),
      ],
      ["kernel.modules", vantage.file("/proc/modules")],
      ["kernel.release", vantage.onHost(["uname", "-r"])],
      ["firewall.ufw", optional(vantage, "ufw status", "not installed")],
      ["firewall.firewalld", optional(vantage, "firewall-cmd --state", "not installed")],
      ["netmanager.networkd", optional(vantage, "networkctl list --no-legend --no-pager", "not installed")],
      ["netmanager.networkmanager", optional(vantage, "nmcli -t -f DEVICE,STATE dev", "not installed")],
      [
        "env.container",
        vantage.onHost(["sh", "-c", "test -e /.dockerenv -o -e /run/.containerenv && echo yes || echo no"]),
      ],
    ];
    const host = Object.fromEntries(
      await Promise.all(entries.map(async ([key, reading]) => [key, await reading] as const)),
    );
    const extra: Partial<Record<ReadingKey, Reading>> = {
      "dockerd.cmdline": dockerd
        ? { source: `/proc/${dockerd.pid}/cmdline`, text: JSON.stringify(dockerd.argv) }
        : {
            source: "/proc/*/cmdline",
            unavailable: vantage.kind === "blind" ? vantage.description : "no dockerd process found for this engine",
          },
      // CI variables describe the machine docknet runs on: they count only when that is the engine's host.
      "env.ci":
        vantage.kind === "local"
          ? { source: CI_VARIABLES.join(", "), text: CI_VARIABLES.filter((v) => process.env[v]).join(" ") }
          : { source: "CI", unavailable: "CI variables count only when docknet runs as root on the engine's host" },
    };
    return {
      vantage: vantage.description,
      vantageKind: vantage.kind,
      dockerHost,
      readings: { ...engine, ...host, ...extra },
    };
  } finally {
    await vantage.close();
  }
}
