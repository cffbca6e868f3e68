import { spawn } from "node:child_process";
import { chmodSync, closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand, runOrFail } from "../host-command.js";
import type { ContainerHandle } from "../lab/probe.js";
import { createNamespace, enterNetns, ipNetnsTarget, runInNetns, runInNetnsOrFail, type NetnsRef } from "./netns.js";
import { waitFor } from "../polling.js";
import { OUTSIDE_ZONE_NAME } from "./dns-stub.js";
import { builtProgram } from "../built-program.js";
import { nodeCommand } from "../node-command.js";
import { addressInSubnet } from "../cidr.js";

/**
 * The outside world of a private engine: a network namespace docknet makes
 * behind a veth, playing the internet. It runs an HTTP service that answers
 * with the source address it saw. It has no route beyond its own link, so
 * nothing that reaches it can go further: no packet leaves the machine.
 */
export interface OutsideHost {
  readonly netns: string;
  /** A short tag unique to this outside host, for the names of its links' interfaces. */
  readonly tag: string;
  /** The outside host's address, as containers reach it. */
  readonly address: string;
  /** The engine host's own address on the link to the outside (what masquerading shows). */
  readonly engineAddress: string;
  /** The engine host's interface on that link (e.g. for trusted_host_interfaces). */
  readonly engineInterface: string;
  /** The HTTP path that answers with the caller's source address. */
  readonly sourcePath: string;
  /** A file of LARGE_FILE_BYTES the outside host serves: a transfer of many full-sized packets. */
  readonly largePath: string;
  /** busybox applets for commands run inside the outside host. */
  readonly binDir: string;
  /** The stub DNS server on the outside host (port 53): it answers OUTSIDE_ZONE_NAME with its own address. */
  readonly dns: DnsStub;
  /** The outside host's IPv6 address on its link (the stub DNS server answers there too). */
  readonly ipv6Address: string;
  readonly engineIpv6Address: string;
}

/** A stub DNS server docknet runs (dns-stub.ts), and the log of the queries it got. */
export interface DnsStub {
  /** Where it answers (its first address, when it has several). */
  readonly address: string;
  readonly log: string;
  readonly pid: number;
}

/**
 * Starts the stub DNS server inside a namespace, answering the zone given.
 * It logs each query with its source address; it stops with its namespace,
 * or when its pid is killed.
 */
export async function startDnsStub(
  netns: NetnsRef,
  addresses: string | readonly string[],
  log: string,
  zone: Record<string, string>,
): Promise<DnsStub> {
  const all = typeof addresses === "string" ? [addresses] : addresses;
  writeFileSync(log, "");
  const program = builtProgram("engine/dns-stub.js");
  const [nsenter, ...enter] = enterNetns(netns);
  const records = Object.entries(zone).map(([name, ip]) => `${name}=${ip}`);
  const child = spawn(nsenter!, [...enter, ...nodeCommand(), program, all.join(","), "53", log, ...records], {
    stdio: "ignore",
    detached: true,
  });
  child.unref();
  // Ready once it listens on every address: a query sent before would be lost.
  // As ss prints them: IPv6 in brackets and in canonical form.
  const bound = (address: string) => (address.includes(":") ? `[${addressInSubnet(address, 0)}]:53` : `${address}:53`);
  const listening = await waitFor(
    async () => {
      const sockets = (await runInNetns(netns, ["ss", "-Huln", "sport = :53"], 5000)).stdout;
      return all.every((address) => sockets.includes(bound(address)));
    },
    5000,
    100,
  );
  if (!listening)
    throw new Error(`${CONTEXT}the stub DNS server did not start on ${all.map(bound).join(", ")} in ${netns}`);
  return { address: all[0]!, log, pid: child.pid! };
}

/**
 * The link between the engine's host and the outside host: a /30 at the top of
 * docknet's 10.213.0.0/16 (the lab's subnet picker sees it as a host route and
 * avoids it). A private engine's namespace is its own, so it always takes the
 * first; on a shared host the first free one is taken.
 */
export interface OutsideAddressing {
  readonly engineAddress: string;
  readonly outsideAddress: string;
  /** The same link's IPv6 addresses (a /64 of fd0d:213:255::/48). */
  readonly engineIpv6Address: string;
  readonly outsideIpv6Address: string;
  /**
   * Whether the engine's host routes everything through the outside host: in a
   * private engine's namespace, yes (it plays the internet); on a real host,
   * never: only the link's own /30 leads there, and the host's routes stay as they are.
   */
  readonly defaultRoute: boolean;
}

export const PRIVATE_ENGINE_ADDRESSING: OutsideAddressing = {
  engineAddress: "10.213.255.1",
  outsideAddress: "10.213.255.2",
  engineIpv6Address: "fd0d:213:255::1",
  outsideIpv6Address: "fd0d:213:255::2",
  defaultRoute: true,
};

/** The candidate /30 links on a shared host, in order: 10.213.255.0/30, .4/30, … (and fd0d:213:255:<slot>::/64). */
export function sharedHostAddressing(slot: number): OutsideAddressing & { subnet: string } {
  const base = slot * 4;
  return {
    subnet: `10.213.255.${base}/30`,
    engineAddress: `10.213.255.${base + 1}`,
    outsideAddress: `10.213.255.${base + 2}`,
    engineIpv6Address: addressInSubnet(`fd0d:213:255:${slot.toString(16)}::/64`, 1),
    outsideIpv6Address: addressInSubnet(`fd0d:213:255:${slot.toString(16)}::/64`, 2),
    defaultRoute: false,
  };
}

/** The size of the outside host's large file: about ninety full-sized TCP segments. */
export const LARGE_FILE_BYTES = 131_072;

const SOURCE_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$REMOTE_ADDR"
`;

const CONTEXT = "outside host: ";
const must = (file: string, args: string[]) => runOrFail(file, args, CONTEXT, 10_000);

/** A command that must succeed on the engine's host (in its namespace). */
const mustOnEngineHost = (engineNetns: NetnsRef, argv: string[]) =>
  runInNetnsOrFail(engineNetns, argv, CONTEXT, 10_000);

/** Runs commands inside the outside host, with busybox's applets first on PATH. */
export function outsideHandle(host: OutsideHost): ContainerHandle {
  return {
    id: host.netns,
    runsAs: enterNetns(host.netns).join(" "),
    async exec(command, user) {
      if (user) throw new Error("the outside host runs commands as root only");
      const out = await runInNetns(host.netns, [join(host.binDir, "env"), `PATH=${host.binDir}`, ...command], 60_000);
      return { exitCode: out.code, stdout: out.stdout, stderr: out.stderr };
    },
  };
}

/**
 * A veth pair from the outside host (`outer`) to the engine's host (`inner`). Made in the outside
 * host, so the pair dies with that namespace whatever the engine's host is.
 */
async function vethToEngineHost(
  outsideNetns: string,
  outer: string,
  inner: string,
  engineNetns: NetnsRef,
): Promise<void> {
  const peer = ["peer", "name", inner, "netns", ipNetnsTarget(engineNetns)];
  await must("ip", ["-n", outsideNetns, "link", "add", outer, "type", "veth", ...peer]);
}

/**
 * Builds the outside host, in namespace `netns` (docknet's own), for the
 * engine whose host is `engineNetns`: a private engine's namespace, or the
 * namespace a local dockerd runs in.
 */
export async function createOutsideHost(
  engineNetns: NetnsRef,
  netns: string,
  id: string,
  dir: string,
  busybox: string,
  addressing: OutsideAddressing = PRIVATE_ENGINE_ADDRESSING,
): Promise<OutsideHost> {
  const { engineAddress, outsideAddress, engineIpv6Address, outsideIpv6Address } = addressing;
  const [inner, outer] = [`dnu-${id}`, `dno-${id}`];
  await createNamespace(netns, CONTEXT, 10_000);
  await vethToEngineHost(netns, outer, inner, engineNetns);
  await mustOnEngineHost(engineNetns, ["ip", "addr", "add", `${engineAddress}/30`, "dev", inner]);
  await mustOnEngineHost(engineNetns, ["ip", "link", "set", inner, "up"]);
  await mustOnEngineHost(engineNetns, ["ip", "addr", "add", `${engineIpv6Address}/64`, "dev", inner, "nodad"]);
  if (addressing.defaultRoute) {
    await mustOnEngineHost(engineNetns, ["ip", "route", "add", "default", "via", outsideAddress]);
    await mustOnEngineHost(engineNetns, ["ip", "-6", "route", "add", "default", "via", outsideIpv6Address]);
  }
  await must("ip", ["-n", netns, "addr", "add", `${outsideAddress}/30`, "dev", outer]);
  await must("ip", ["-n", netns, "addr", "add", `${outsideIpv6Address}/64`, "dev", outer, "nodad"]);
  await must("ip", ["-n", netns, "link", "set", outer, "up"]);
  // A neighbour that knows the way to docknet's lab subnets (10.213.0.0/16, fd0d::/16), as a LAN router would.
  await must("ip", ["-n", netns, "route", "add", "10.213.0.0/16", "via", engineAddress]);
  await must("ip", ["-n", netns, "-6", "route", "add", "fd0d::/16", "via", engineIpv6Address]);

  const binDir = join(dir, "outside-bin");
  mkdirSync(binDir, { recursive: true });
  await must(busybox, ["--install", "-s", binDir]);
  const www = join(dir, "outside-www");
  mkdirSync(join(www, "cgi-bin"), { recursive: true });
  writeFileSync(join(www, "cgi-bin", "source"), SOURCE_CGI);
  chmodSync(join(www, "cgi-bin", "source"), 0o755);
  writeFileSync(join(www, "large"), Buffer.alloc(LARGE_FILE_BYTES, "x"));
  const log = openSync(join(dir, "outside-httpd.log"), "a");
  const [nsenter, ...enter] = enterNetns(netns);
  // Every IPv4 address of the outside host: its /30, and its end of each outside link (a LAN's router).
  const server = spawn(nsenter!, [...enter, busybox, "httpd", "-f", "-p", "0.0.0.0:80", "-h", www], {
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  server.unref();
  const dns = await startDnsStub(netns, [outsideAddress, outsideIpv6Address], join(dir, "outside-dns.log"), {
    [OUTSIDE_ZONE_NAME]: outsideAddress,
  });
  return {
    netns,
    tag: id.slice(0, 6),
    address: outsideAddress,
    engineAddress,
    engineInterface: inner,
    ipv6Address: outsideIpv6Address,
    engineIpv6Address,
    sourcePath: "/cgi-bin/source",
    largePath: "/large",
    binDir,
    dns,
  };
}

/** A link between the engine's host and the outside host: a parent for macvlan or ipvlan networks. */
export interface OutsideLink {
  /** The interface on the engine's host (what `-o parent=` names). */
  readonly parent: string;
  /** The outside host's end of the link. */
  readonly outsideInterface: string;
  /** The LAN on the link: the outside host is its .1 (the router), containers take the rest. */
  readonly subnet: string;
  readonly outsideAddress: string;
  readonly ipv6Subnet: string;
  readonly outsideIpv6Address: string;
}

/**
 * A second "LAN" between the engine's host and the outside host, on a veth of
 * its own (10.216.<n>.0/24 and fd0d:216:<n>::/64). Containers of a macvlan
 * network on it appear to the outside host as machines of their own.
 */
export async function createOutsideLink(host: OutsideHost, engineNetns: NetnsRef, index: number): Promise<OutsideLink> {
  const [parent, outer] = [`mvp${index}-${host.tag}`, `mvo${index}-${host.tag}`];
  const link: OutsideLink = {
    parent,
    outsideInterface: outer,
    subnet: `10.216.${index}.0/24`,
    outsideAddress: `10.216.${index}.1`,
    ipv6Subnet: `fd0d:216:${index.toString(16)}::/64`,
    outsideIpv6Address: `fd0d:216:${index.toString(16)}::1`,
  };
  await vethToEngineHost(host.netns, outer, parent, engineNetns);
  await mustOnEngineHost(engineNetns, ["ip", "link", "set", parent, "up"]);
  await must("ip", ["-n", host.netns, "addr", "add", `${link.outsideAddress}/24`, "dev", outer]);
  await must("ip", ["-n", host.netns, "addr", "add", `${link.outsideIpv6Address}/64`, "dev", outer, "nodad"]);
  await must("ip", ["-n", host.netns, "link", "set", outer, "up"]);
  return link;
}

/**
 * Makes a link a path that carries packets of `mtu` bytes at most and tells nobody, as a tunnel
 * or VPN uplink does: the engine host's end takes that MTU (the host's own connections fit their
 * segments to it), while the outside host's end keeps 1500 and sends each packet whole (no
 * segmentation offload across the veth, as on a wire), so a larger packet is dropped on arrival.
 * Returns the commands, as a person would run them.
 */
export async function narrowOutsideLink(
  host: OutsideHost,
  link: OutsideLink,
  engineNetns: NetnsRef,
  mtu: number,
): Promise<string> {
  const engineEnd = ["ip", "link", "set", link.parent, "mtu", String(mtu)];
  const outsideEnd = ["ip", "-n", host.netns, "link", "set", link.outsideInterface, "gso_max_size", "1500"];
  await mustOnEngineHost(engineNetns, engineEnd);
  await must(outsideEnd[0]!, outsideEnd.slice(1));
  return [engineEnd, outsideEnd].map((argv) => argv.join(" ")).join("; ");
}

/** The outside host's routing table and rule preference for one link's detours (from its index). */
function detourTable(link: Pick<OutsideLink, "subnet">): string {
  return String(1000 + Number(link.subnet.split(".")[2]));
}

/**
 * The outside host sends TCP to `destination`:`port`, and that alone, over `link` to the engine
 * host's address `via` on it, instead of over its own /30: as a machine on a second network of the
 * host would. Other scenarios' traffic to the same address keeps its way. Undone by removeDetour.
 * Returns the commands, as a person would run them.
 */
export async function addDetour(
  host: OutsideHost,
  link: OutsideLink,
  destination: string,
  port: number,
  via: string,
): Promise<string> {
  const table = detourTable(link);
  const route = ["route", "add", `${destination}/32`, "via", via, "dev", link.outsideInterface, "table", table];
  const rule = ["rule", "add", "pref", table, "to", `${destination}/32`, "ipproto", "tcp", "dport", String(port)];
  const commands = [route, [...rule, "lookup", table]].map((args) => ["-n", host.netns, ...args]);
  for (const args of commands) await must("ip", args);
  return commands.map((args) => `ip ${args.join(" ")}`).join("; ");
}

/** Undoes addDetour: the outside host's traffic to that port takes its /30 again. */
export async function removeDetour(host: OutsideHost, link: OutsideLink): Promise<void> {
  // The route goes with the link; the rule is the outside host's own.
  await runCommand("ip", ["-n", host.netns, "rule", "del", "pref", detourTable(link)], { timeoutMs: 5000 });
}

/** A veth pair with both ends on the engine's host: a parent that leads nowhere (for broken setups). */
export async function createDeadEndLink(
  host: OutsideHost,
  engineNetns: NetnsRef,
  index: number,
): Promise<Pick<OutsideLink, "parent">> {
  const [parent, peer] = [`mvx${index}-${host.tag}`, `mvy${index}-${host.tag}`];
  await mustOnEngineHost(engineNetns, ["ip", "link", "add", parent, "type", "veth", "peer", "name", peer]);
  await mustOnEngineHost(engineNetns, ["ip", "link", "set", parent, "up"]);
  await mustOnEngineHost(engineNetns, ["ip", "link", "set", peer, "up"]);
  return { parent };
}

/** Removes a link (its other end goes with it). */
export async function removeOutsideLink(link: Pick<OutsideLink, "parent">, engineNetns: NetnsRef): Promise<void> {
  await runInNetns(engineNetns, ["ip", "link", "del", link.parent], 5000);
}
