import { existsSync, readlinkSync, realpathSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { readFile } from "node:fs/promises";
import { release } from "node:os";
import Docker from "dockerode";
import { dockerodeOptions, pingEngine } from "../engine/docker-host.js";
import { findProgram } from "../host-command.js";
import { findDockerdServing, DEFAULT_DAEMON_JSON, type DockerdProcess } from "./dockerd-process.js";
import type { Reading, ReadingKey, Readings } from "./readings.js";
import { blindVantage, fileReading, localVantage, type Vantage } from "./vantage.js";

const CI_VARIABLES = ["CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "CIRCLECI", "TF_BUILD"];

/** Decides where to read the host from: the engine's own namespace when we can enter it. */
export function chooseVantage(dockerHost: string, dockerd: DockerdProcess | undefined, engineAnswers: boolean): Vantage {
  const root = process.getuid?.() === 0;
  if (!dockerHost.startsWith("unix://") && !dockerHost.startsWith("/")) {
    return blindVantage(`the engine at ${dockerHost} is remote: run docknet doctor on its host for host checks`);
  }
  if (dockerd) {
    return root ? localVantage(dockerd.pid) : blindVantage(`not root: the network namespace of dockerd (pid ${dockerd.pid}) cannot be entered`);
  }
  if (!engineAnswers) return localVantage(undefined); // no engine yet: audit this machine before Docker runs on it
  return blindVantage(`no dockerd process on this machine serves ${dockerHost} (rootless, Docker Desktop or another namespace)`);
}

async function engineReadings(dockerHost: string): Promise<Partial<Record<ReadingKey, Reading>>> {
  const problem = await pingEngine(dockerHost);
  if (problem !== undefined) {
    const unavailable = `no engine answers at ${dockerHost}: ${problem}`;
    return Object.fromEntries(
      (["engine.info", "engine.version", "engine.networks", "engine.containers"] as const).map((k) => [k, { source: `GET ${k.slice(7)}`, unavailable }]),
    );
  }
  const docker = new Docker(dockerodeOptions(dockerHost, 10_000));
  const asReading = async (source: string, read: () => Promise<unknown>): Promise<Reading> => {
    try {
      return { source, text: JSON.stringify(await read()) };
    } catch (error) {
      return { source, unavailable: `${source}: ${(error as Error).message}` };
    }
  };
  const [info, version, networks, containers] = await Promise.all([
    asReading("GET /info", () => docker.info()),
    asReading("GET /version", () => docker.version()),
    asReading("GET /networks + inspect", async () => Promise.all((await docker.listNetworks()).map((n) => docker.getNetwork(n.Id).inspect()))),
    asReading("GET /containers/json + inspect", async () =>
      Promise.all((await docker.listContainers()).slice(0, 500).map((c) => docker.getContainer(c.Id).inspect())),
    ),
  ]);
  return { "engine.info": info, "engine.version": version, "engine.networks": networks, "engine.containers": containers };
}

async function kernelConfig(vantage: Vantage): Promise<Reading> {
  if (vantage.kind === "blind") return vantage.file("/proc/config.gz");
  try {
    return { source: "/proc/config.gz", text: gunzipSync(await readFile("/proc/config.gz")).toString("utf8") };
  } catch {
    return fileReading(`/boot/config-${release()}`);
  }
}

function resolvConfTarget(vantage: Vantage): Reading {
  const source = "readlink -f /etc/resolv.conf";
  if (vantage.kind === "blind") return { source, unavailable: "no view of the engine's host" };
  let link: string | null = null;
  try {
    link = readlinkSync("/etc/resolv.conf");
  } catch {
    link = null; // not a symlink, or absent
  }
  let target: string | null = null;
  try {
    target = realpathSync("/etc/resolv.conf");
  } catch {
    target = null;
  }
  return { source, text: JSON.stringify({ link, target, exists: existsSync("/etc/resolv.conf") }) };
}

async function optionalProgram(vantage: Vantage, argv: readonly string[], absent: string): Promise<Reading> {
  if (vantage.kind === "local" && !(await findProgram(argv[0]!))) return { source: argv.join(" "), text: absent };
  return vantage.onHost(argv);
}

/** Takes every reading the checks need, in parallel; none of them changes anything. */
export async function collectReadings(dockerHost: string): Promise<Readings> {
  const engine = await engineReadings(dockerHost);
  const dockerd = findDockerdServing(dockerHost);
  const vantage = chooseVantage(dockerHost, dockerd, !("unavailable" in (engine["engine.info"] ?? { unavailable: "" })));
  const sysctl = (name: string) => vantage.inEngineNetns(["cat", `/proc/sys/${name.replaceAll(".", "/")}`]);
  const daemonJson = dockerd?.configFile ?? DEFAULT_DAEMON_JSON;
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
    ["nft.ruleset", optionalProgram(vantage, ["nft", "list", "tables"], "")],
    ["ip.links", vantage.inEngineNetns(["ip", "-j", "-d", "link", "show"])],
    ["ip.addresses", vantage.inEngineNetns(["ip", "-j", "addr", "show"])],
    ["ip.routes", vantage.inEngineNetns(["ip", "-j", "route", "show", "table", "all"])],
    ["proc.net.tcp", vantage.inEngineNetns(["cat", "/proc/net/tcp"])],
    ["proc.net.tcp6", vantage.inEngineNetns(["cat", "/proc/net/tcp6"])],
    ["file.resolv.conf", vantage.file("/etc/resolv.conf")],
    ["file.resolv.conf.target", Promise.resolve(resolvConfTarget(vantage))],
    ["file.daemon.json", vantage.file(daemonJson)],
    ["kernel.config", kernelConfig(vantage)],
    ["kernel.modules", vantage.file("/proc/modules")],
    ["firewall.ufw", optionalProgram(vantage, ["ufw", "status"], "not installed")],
    ["firewall.firewalld", optionalProgram(vantage, ["firewall-cmd", "--state"], "not installed")],
    ["netmanager.networkd", optionalProgram(vantage, ["networkctl", "list", "--no-legend", "--no-pager"], "not installed")],
    ["netmanager.networkmanager", optionalProgram(vantage, ["nmcli", "-t", "-f", "DEVICE,STATE", "dev"], "not installed")],
  ];
  const host = Object.fromEntries(await Promise.all(entries.map(async ([key, reading]) => [key, await reading] as const)));
  const local = vantage.kind === "local";
  const extra: Partial<Record<ReadingKey, Reading>> = {
    "kernel.release": local ? { source: "uname -r", text: release() } : { source: "uname -r", unavailable: vantage.description },
    "dockerd.cmdline": dockerd ? { source: `/proc/${dockerd.pid}/cmdline`, text: JSON.stringify(dockerd.argv) } : { source: "/proc/*/cmdline", unavailable: "no local dockerd serves this engine" },
    "env.container": local
      ? { source: "/.dockerenv, /run/.containerenv", text: existsSync("/.dockerenv") || existsSync("/run/.containerenv") ? "yes" : "no" }
      : { source: "/.dockerenv", unavailable: vantage.description },
    "env.ci": { source: CI_VARIABLES.join(", "), text: CI_VARIABLES.filter((v) => process.env[v]).join(" ") },
  };
  return { vantage: vantage.description, dockerHost, readings: { ...engine, ...host, ...extra } };
}
