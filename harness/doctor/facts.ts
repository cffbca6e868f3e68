import { NotApplicable } from "./check.js";
import { engineFamily, type EngineProfile, type ProfileSources } from "../engine-profile.js";
import { parseRuleset, type Ruleset } from "../iptables-rules.js";
import { parseDockerdArgv } from "./dockerd-process.js";
import { parseKernelConfig } from "../kernel-config.js";
import { isAvailable, type ReadingKey, type Readings } from "./readings.js";

/** A reading a check needs is not there; the check is skipped with this reason. */
export class Unavailable extends Error {
  override readonly name = "Unavailable";
}

export interface EngineInfo {
  readonly ServerVersion?: string;
  readonly KernelVersion?: string;
  readonly IPv4Forwarding?: boolean;
  readonly Warnings?: readonly string[] | null;
  readonly SecurityOptions?: readonly string[];
  readonly Swarm?: { readonly LocalNodeState?: string; readonly ControlAvailable?: boolean };
  readonly FirewallBackend?: { readonly Driver?: string };
  readonly OperatingSystem?: string;
  readonly Name?: string;
}

export interface NetworkInfo {
  readonly Name: string;
  readonly Id: string;
  readonly Driver: string;
  readonly Scope?: string;
  readonly Internal?: boolean;
  readonly EnableIPv6?: boolean;
  readonly Options?: Readonly<Record<string, string>> | null;
  readonly IPAM?: { readonly Config?: ReadonlyArray<{ readonly Subnet?: string; readonly Gateway?: string }> | null };
  readonly Labels?: Readonly<Record<string, string>> | null;
}

export interface PortBinding {
  readonly HostIp?: string;
  readonly HostPort?: string;
}

export interface ContainerInfo {
  readonly Name: string;
  readonly State?: { readonly Status?: string; readonly Restarting?: boolean; readonly Error?: string };
  readonly HostConfig?: {
    readonly NetworkMode?: string;
    readonly CapAdd?: readonly string[] | null;
    readonly Privileged?: boolean;
  };
  readonly NetworkSettings?: {
    readonly Ports?: Readonly<Record<string, readonly PortBinding[] | null>> | null;
    readonly Networks?: Readonly<Record<string, unknown>> | null;
  };
}

export interface Link {
  readonly name: string;
  readonly mtu: number;
  /** veth, bridge, macvlan, wireguard, tun, dummy… or "" for a physical device. */
  readonly kind: string;
  readonly up: boolean;
  readonly master?: string;
}

export interface Address {
  readonly device: string;
  readonly family: "inet" | "inet6";
  readonly cidr: string;
}

export interface Route {
  readonly dst: string;
  readonly dev?: string;
  readonly gateway?: string;
  readonly table: string;
  readonly type: string;
  readonly protocol?: string;
}

export interface ListeningSocket {
  readonly address: string;
  readonly port: number;
}

export interface DaemonConfig {
  readonly path: string;
  /** Absent when the file does not exist: the daemon runs on its defaults. */
  readonly text?: string;
  readonly parsed?: Record<string, unknown>;
  readonly parseError?: string;
}

/**
 * Typed views of the readings. Every accessor names the readings it used, so a
 * check's evidence says exactly where each fact came from; a missing reading
 * throws Unavailable and the check is skipped, never passed.
 */
export class Facts {
  readonly #readings: Readings;
  readonly #used = new Set<string>();

  constructor(readings: Readings) {
    this.#readings = readings;
  }

  get dockerHost(): string {
    return this.#readings.dockerHost;
  }

  get vantage(): string {
    return this.#readings.vantage;
  }

  get vantageKind(): Readings["vantageKind"] {
    this.#used.add(`where the doctor looked: ${this.#readings.vantage}`);
    return this.#readings.vantageKind;
  }

  /** The sources read since the last call, for a check's evidence. */
  takeSources(): string[] {
    const sources = [...this.#used];
    this.#used.clear();
    return sources;
  }

  text(key: ReadingKey): string {
    const reading = this.#readings.readings[key];
    if (!reading) throw new Unavailable(`${key} was not read`);
    this.#used.add(reading.source);
    if (!isAvailable(reading)) throw new Unavailable(reading.unavailable);
    return reading.text;
  }

  /** A reading that may legitimately be missing (an optional file): undefined instead of a skip. */
  optionalText(key: ReadingKey): string | undefined {
    return this.maybe(() => this.text(key));
  }

  /** A fact that only adds detail: undefined when its reading is missing, instead of a skip. */
  maybe<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (error) {
      if (error instanceof Unavailable) return undefined;
      throw error;
    }
  }

  #json<T>(key: ReadingKey): T {
    return JSON.parse(this.text(key)) as T;
  }

  info(): EngineInfo {
    return this.#json<EngineInfo>("engine.info");
  }

  engineVersion(): string {
    return this.#json<{ Version: string }>("engine.version").Version;
  }

  /** docker, podman or other, from the components /version lists (engine-profile.ts). */
  engineFamily(): EngineProfile["family"] {
    return engineFamily(this.#json<ProfileSources["version"]>("engine.version"));
  }

  networks(): NetworkInfo[] {
    return this.#json<NetworkInfo[]>("engine.networks");
  }

  containers(): ContainerInfo[] {
    return this.#json<ContainerInfo[]>("engine.containers");
  }

  sysctl(
    name:
      | "net.ipv4.ip_forward"
      | "net.ipv6.conf.all.forwarding"
      | "net.ipv6.conf.all.disable_ipv6"
      | "net.bridge.bridge-nf-call-iptables"
      | "net.bridge.bridge-nf-call-ip6tables",
  ): number {
    return Number(this.text(`sysctl.${name}`).trim());
  }

  ruleset(key: "iptables.filter" | "iptables.nat" | "ip6tables.filter"): Ruleset {
    return parseRuleset(this.text(key));
  }

  links(): Link[] {
    type Raw = { ifname: string; mtu: number; flags?: string[]; master?: string; linkinfo?: { info_kind?: string } };
    return this.#json<Raw[]>("ip.links").map((l) => ({
      name: l.ifname,
      mtu: l.mtu,
      kind: l.linkinfo?.info_kind ?? "",
      up: (l.flags ?? []).includes("UP"),
      ...(l.master ? { master: l.master } : {}),
    }));
  }

  addresses(): Address[] {
    type Raw = { ifname: string; addr_info?: Array<{ family: string; local: string; prefixlen: number }> };
    return this.#json<Raw[]>("ip.addresses").flatMap((l) =>
      (l.addr_info ?? [])
        .filter((a) => a.family === "inet" || a.family === "inet6")
        .map((a) => ({ device: l.ifname, family: a.family as Address["family"], cidr: `${a.local}/${a.prefixlen}` })),
    );
  }

  routes(): Route[] {
    type Raw = { dst: string; dev?: string; gateway?: string; table?: string; type?: string; protocol?: string };
    return this.#json<Raw[]>("ip.routes").map((r) => ({
      dst: r.dst,
      table: r.table ?? "main",
      type: r.type ?? "unicast",
      ...(r.dev ? { dev: r.dev } : {}),
      ...(r.gateway ? { gateway: r.gateway } : {}),
      ...(r.protocol ? { protocol: r.protocol } : {}),
    }));
  }

  listening(): ListeningSocket[] {
    return [
      ...parseProcNetTcp(this.text("proc.net.tcp"), 4),
      ...parseProcNetTcp(this.optionalText("proc.net.tcp6") ?? "", 6),
    ];
  }

  resolvConf(): { nameservers: string[]; link: string | null; target: string | null; exists: boolean } {
    const raw = JSON.parse(this.text("file.resolv.conf.target")) as {
      link: string | null;
      target: string | null;
      exists: boolean;
    };
    // readlink prints nothing for a file that is not a symlink
    const where = { link: raw.link || null, target: raw.target || null, exists: raw.exists };
    const text = where.exists ? this.text("file.resolv.conf") : "";
    const nameservers = text
      .split("\n")
      .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
      .filter((n): n is string => Boolean(n));
    return { nameservers, ...where };
  }

  daemonConfig(): DaemonConfig {
    const reading = this.#readings.readings["file.daemon.json"];
    if (!reading) throw new Unavailable("file.daemon.json was not read");
    this.#used.add(reading.source);
    if (!isAvailable(reading)) {
      if (reading.unavailable.endsWith("does not exist")) return { path: reading.source };
      throw new Unavailable(reading.unavailable);
    }
    try {
      const parsed: unknown = JSON.parse(reading.text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
        return { path: reading.source, text: reading.text, parseError: "not a JSON object" };
      return { path: reading.source, text: reading.text, parsed: parsed as Record<string, unknown> };
    } catch (error) {
      return { path: reading.source, text: reading.text, parseError: (error as Error).message };
    }
  }

  /**
   * For checks that describe an engine: skipped, with the reason, where none
   * exists (nothing answers and no dockerd runs). Forwarding off or no Docker
   * chains is the normal state of a machine whose engine has not started.
   */
  requireEngine(): void {
    const answers = this.maybe(() => this.info()) !== undefined;
    const dockerd = this.optionalText("dockerd.cmdline") !== undefined;
    if (!answers && !dockerd)
      throw new NotApplicable(`no engine on this machine: nothing answers at ${this.dockerHost} and no dockerd runs`);
  }

  /** A daemon setting from daemon.json, else from dockerd's command line (--key=value or --key value). */
  daemonSetting(key: string): unknown {
    const argv = this.optionalText("dockerd.cmdline");
    if (argv) {
      const args = JSON.parse(argv) as string[];
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg.startsWith(`--${key}=`)) return coerce(arg.slice(key.length + 3));
        if (arg === `--${key}`) {
          const next = args[i + 1];
          return next !== undefined && !next.startsWith("-") ? coerce(next) : true;
        }
      }
    }
    const config = this.daemonConfig();
    return config.parsed?.[key];
  }

  /** The API addresses dockerd listens on: its -H/--host flags, else daemon.json "hosts". */
  dockerdHosts(): string[] {
    const argv = this.optionalText("dockerd.cmdline");
    const fromFlags = argv ? parseDockerdArgv(0, JSON.parse(argv) as string[]).hosts : [];
    const fromFile = this.daemonConfig().parsed?.hosts;
    return [
      ...new Set([
        ...fromFlags,
        ...(Array.isArray(fromFile) ? fromFile.filter((h): h is string => typeof h === "string") : []),
      ]),
    ];
  }

  /** Kernel options set to y or m; from the kernel's config, else the loaded modules. */
  kernelOptions(): ReadonlyMap<string, "y" | "m"> {
    return parseKernelConfig(this.text("kernel.config"));
  }

  loadedModules(): ReadonlySet<string> {
    return new Set(
      this.text("kernel.modules")
        .split("\n")
        .map((l) => l.split(" ")[0]!)
        .filter(Boolean),
    );
  }
}

function coerce(value: string): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Sockets in LISTEN state (0A) from /proc/net/tcp or tcp6. */
export function parseProcNetTcp(text: string, family: 4 | 6): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== "0A") continue;
    const [hex = "", portHex = "0"] = fields[1]!.split(":");
    sockets.push({ address: family === 4 ? hexToIpv4(hex) : hexToIpv6(hex), port: parseInt(portHex, 16) });
  }
  return sockets;
}

function hexToIpv4(hex: string): string {
  // /proc/net/tcp prints the address in host byte order (little-endian here).
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".");
}

function hexToIpv6(hex: string): string {
  if (/^0+$/.test(hex)) return "::";
  const words: string[] = [];
  for (let w = 0; w < 4; w++) {
    const chunk = hex.slice(w * 8, w * 8 + 8);
    const bytes = [6, 4, 2, 0].map((i) => chunk.slice(i, i + 2)).join("");
    words.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  return words.map((w) => parseInt(w, 16).toString(16)).join(":");
}
