/**
 * The raw material of the doctor: what each source printed, exactly as it
 * printed it. Checks parse readings, never the machine; so a captured set of
 * readings replays a machine in unit tests.
 */
export type Reading =
  { readonly source: string; readonly text: string } | { readonly source: string; readonly unavailable: string };

export function isAvailable(reading: Reading | undefined): reading is Extract<Reading, { text: string }> {
  return reading !== undefined && "text" in reading;
}

/** Every reading the doctor takes, by a stable key. */
export interface Readings {
  /** Where the host readings were taken from, in words ("network namespace of dockerd pid 42"). */
  readonly vantage: string;
  /** local: this machine as root; helper: a host-network container; blind: no view of the host. */
  readonly vantageKind?: "local" | "helper" | "blind";
  /** The engine's address, as DOCKER_HOST spells it. */
  readonly dockerHost: string;
  readonly readings: Readonly<Partial<Record<ReadingKey, Reading>>>;
}

export const READING_KEYS = [
  // Engine API
  "engine.info",
  "engine.version",
  "engine.networks",
  "engine.containers",
  // Kernel parameters, as seen from the engine's network namespace
  "sysctl.net.ipv4.ip_forward",
  "sysctl.net.ipv6.conf.all.forwarding",
  "sysctl.net.ipv6.conf.all.disable_ipv6",
  "sysctl.net.bridge.bridge-nf-call-iptables",
  "sysctl.net.bridge.bridge-nf-call-ip6tables",
  // Packet filter
  "iptables.version",
  "iptables.filter",
  "iptables.nat",
  "ip6tables.filter",
  "iptables.legacy-save",
  "iptables.nft-save",
  "nft.ruleset",
  // Links, addresses and routes (ip -j)
  "ip.links",
  "ip.addresses",
  "ip.routes",
  // Sockets listening (/proc/net/tcp{,6})
  "proc.net.tcp",
  "proc.net.tcp6",
  // Files and processes on the host
  "file.resolv.conf",
  "file.resolv.conf.target",
  "file.daemon.json",
  "dockerd.cmdline",
  "kernel.config",
  "kernel.modules",
  "kernel.release",
  "firewall.ufw",
  "firewall.firewalld",
  "netmanager.networkd",
  "netmanager.networkmanager",
  "env.container",
  "env.ci",
] as const;

export type ReadingKey = (typeof READING_KEYS)[number];
