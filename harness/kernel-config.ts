import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";

/** Kernel options from moby's contrib/check-config.sh, by the Docker feature that needs them. */
export const KERNEL_TIERS = {
  bridge: [
    "CONFIG_NAMESPACES",
    "CONFIG_NET_NS",
    "CONFIG_VETH",
    "CONFIG_BRIDGE",
    "CONFIG_BRIDGE_NETFILTER",
    "CONFIG_IP_NF_FILTER",
    "CONFIG_IP_NF_MANGLE",
    "CONFIG_IP_NF_TARGET_MASQUERADE",
    "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",
    "CONFIG_NETFILTER_XT_MATCH_CONNTRACK",
    "CONFIG_NETFILTER_XT_MARK",
    "CONFIG_IP_NF_NAT",
    "CONFIG_NF_NAT",
    "CONFIG_IP_NF_RAW",
  ],
  ipvs: [
    "CONFIG_IP_VS",
    "CONFIG_IP_VS_NFCT",
    "CONFIG_IP_VS_PROTO_TCP",
    "CONFIG_IP_VS_PROTO_UDP",
    "CONFIG_IP_VS_RR",
    "CONFIG_NETFILTER_XT_MATCH_IPVS",
  ],
  // check-config.sh lists CONFIG_BRIDGE_VLAN_FILTERING beside VXLAN, but overlays carry traffic without
  // it (docknet's lab does, on a kernel that lacks it): dockerd only logs that it cannot set a default VLAN.
  overlay: ["CONFIG_VXLAN"],
  encryptedOverlay: [
    "CONFIG_XFRM",
    "CONFIG_XFRM_USER",
    "CONFIG_XFRM_ALGO",
    "CONFIG_INET_ESP",
    "CONFIG_CRYPTO_GCM",
    "CONFIG_CRYPTO_SEQIV",
    "CONFIG_CRYPTO_GHASH",
  ],
  macvlan: ["CONFIG_MACVLAN"],
  ipvlan: ["CONFIG_IPVLAN"],
  /** macvlan and ipvlan networks with no parent get a dummy link. */
  dummy: ["CONFIG_DUMMY"],
  /** `-o parent=eth0.60`: the engine makes the 802.1Q sub-interface. */
  vlan: ["CONFIG_VLAN_8021Q"],
} as const;

export type KernelTier = keyof typeof KERNEL_TIERS;

/** The module of an option set to m, where its name is not the option's own in lower case. */
const MODULE_NAMES: Record<string, string> = {
  CONFIG_BRIDGE_NETFILTER: "br_netfilter",
  CONFIG_IP_NF_FILTER: "iptable_filter",
  CONFIG_IP_NF_MANGLE: "iptable_mangle",
  CONFIG_IP_NF_NAT: "iptable_nat",
  CONFIG_IP_NF_RAW: "iptable_raw",
  CONFIG_IP_NF_TARGET_MASQUERADE: "ipt_MASQUERADE",
  CONFIG_NETFILTER_XT_MATCH_ADDRTYPE: "xt_addrtype",
  CONFIG_NETFILTER_XT_MATCH_CONNTRACK: "xt_conntrack",
  CONFIG_NETFILTER_XT_MARK: "xt_mark",
  CONFIG_NETFILTER_XT_MATCH_IPVS: "xt_ipvs",
  CONFIG_INET_ESP: "esp4",
  CONFIG_CRYPTO_GCM: "gcm",
  CONFIG_CRYPTO_SEQIV: "seqiv",
  CONFIG_CRYPTO_GHASH: "ghash_generic",
  CONFIG_VLAN_8021Q: "8021q",
};

export function moduleOf(option: string): string {
  return MODULE_NAMES[option] ?? option.replace(/^CONFIG_/, "").toLowerCase();
}

/** Options set to y or m in a kernel config text. */
export function parseKernelConfig(text: string): ReadonlyMap<string, "y" | "m"> {
  const options = new Map<string, "y" | "m">();
  for (const line of text.split("\n")) {
    const match = /^(CONFIG_\w+)=([ym])$/.exec(line.trim());
    if (match) options.set(match[1]!, match[2] as "y" | "m");
  }
  return options;
}

/** The running kernel's config (/proc/config.gz, else /boot/config-<release>), or undefined when neither is readable. */
export function readLocalKernelConfig(): ReadonlyMap<string, "y" | "m"> | undefined {
  try {
    if (existsSync("/proc/config.gz")) return parseKernelConfig(gunzipSync(readFileSync("/proc/config.gz")).toString());
    const boot = `/boot/config-${release()}`;
    if (existsSync(boot)) return parseKernelConfig(readFileSync(boot, "utf8"));
  } catch {
    // unreadable: unknown, which scenarios treat as "try and see"
  }
  return undefined;
}

/** For each tier, the options the kernel lacks (empty: the feature is there). */
export function missingKernelOptions(options: ReadonlyMap<string, "y" | "m">): Record<KernelTier, string[]> {
  const missing = {} as Record<KernelTier, string[]>;
  for (const [tier, wanted] of Object.entries(KERNEL_TIERS) as [KernelTier, readonly string[]][]) {
    missing[tier] = wanted.filter((option) => !options.has(option));
  }
  return missing;
}
