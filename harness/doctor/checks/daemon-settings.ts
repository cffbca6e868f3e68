import { compareVersions } from "../../capabilities.js";
import { inSubnet, isCidr, isIpAddress, prefixLength, subnetsOverlap } from "../../cidr.js";

/**
 * What dockerd accepts in daemon.json: it refuses to start on a key it does not
 * know, a value of the wrong type, or a key also given as a flag.
 * (docs: dockerd reference, "Daemon configuration file".)
 */
export const DAEMON_KEYS: ReadonlySet<string> = new Set([
  "allow-direct-routing",
  "allow-nondistributable-artifacts",
  "api-cors-header",
  "authorization-plugins",
  "bip",
  "bip6",
  "bridge",
  "builder",
  "cdi-spec-dirs",
  "cgroup-parent",
  "cluster-advertise",
  "cluster-store",
  "cluster-store-opts",
  "containerd",
  "containerd-namespace",
  "containerd-plugin-namespace",
  "data-root",
  "debug",
  "default-address-pools",
  "default-cgroupns-mode",
  "default-gateway",
  "default-gateway-v6",
  "default-ipc-mode",
  "default-network-opts",
  "default-runtime",
  "default-shm-size",
  "default-ulimits",
  "dns",
  "dns-opts",
  "dns-search",
  "exec-opts",
  "exec-root",
  "experimental",
  "features",
  "firewall-backend",
  "fixed-cidr",
  "fixed-cidr-v6",
  "group",
  "host-gateway-ip",
  "host-gateway-ips",
  "hosts",
  "http-proxy",
  "https-proxy",
  "icc",
  "init",
  "init-path",
  "insecure-registries",
  "ip",
  "ip-forward",
  "ip-forward-no-drop",
  "ip-masq",
  "ip6tables",
  "iptables",
  "ipv6",
  "labels",
  "live-restore",
  "log-driver",
  "log-format",
  "log-level",
  "log-opts",
  "max-concurrent-downloads",
  "max-concurrent-uploads",
  "max-download-attempts",
  "metrics-addr",
  "min-api-version",
  "mtu",
  "network-control-plane-mtu",
  "no-new-privileges",
  "no-proxy",
  "node-generic-resources",
  "oom-score-adjust",
  "pidfile",
  "proxies",
  "raw-logs",
  "registry-mirrors",
  "rootless",
  "runtimes",
  "seccomp-profile",
  "selinux-enabled",
  "shutdown-timeout",
  "storage-driver",
  "storage-opts",
  "swarm-default-advertise-addr",
  "tls",
  "tlscacert",
  "tlscert",
  "tlskey",
  "tlsverify",
  "userland-proxy",
  "userland-proxy-path",
  "userns-remap",
]);

/** Keys older engines do not know yet (release notes); such an engine refuses to start with them. */
export const DAEMON_KEYS_SINCE: Readonly<Record<string, string>> = {
  "default-network-opts": "24.0",
  "allow-direct-routing": "28.0",
  "ip-forward-no-drop": "28.0",
  "firewall-backend": "29.0",
};

const BOOLEAN_KEYS = [
  "icc",
  "iptables",
  "ip6tables",
  "ip-masq",
  "ip-forward",
  "ip-forward-no-drop",
  "ipv6",
  "userland-proxy",
  "experimental",
  "live-restore",
  "debug",
  "tls",
  "tlsverify",
];
const STRING_KEYS = [
  "bip",
  "fixed-cidr",
  "fixed-cidr-v6",
  "default-gateway",
  "default-gateway-v6",
  "ip",
  "bridge",
  "data-root",
  "exec-root",
];
const ARRAY_KEYS = [
  "dns",
  "dns-opts",
  "dns-search",
  "default-address-pools",
  "hosts",
  "insecure-registries",
  "registry-mirrors",
];

/** Problems that make dockerd refuse the file: unknown keys, wrong types, keys unknown to this engine version. */
export function daemonConfigProblems(config: Record<string, unknown>, engineVersion: string | undefined): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(config)) {
    if (!DAEMON_KEYS.has(key))
      problems.push(
        `unknown key "${key}": dockerd refuses to start ("the following directives don't match any configuration option")`,
      );
    const since = DAEMON_KEYS_SINCE[key];
    if (since && engineVersion && compareVersions(engineVersion, since) < 0)
      problems.push(`"${key}" needs Engine ${since}; this engine is ${engineVersion} and refuses it`);
  }
  const typeOf = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
  for (const key of BOOLEAN_KEYS)
    if (key in config && typeof config[key] !== "boolean")
      problems.push(`"${key}" must be true or false, not ${typeOf(config[key])}`);
  for (const key of STRING_KEYS)
    if (key in config && typeof config[key] !== "string")
      problems.push(`"${key}" must be a string, not ${typeOf(config[key])}`);
  for (const key of ARRAY_KEYS)
    if (key in config && !Array.isArray(config[key]))
      problems.push(`"${key}" must be an array, not ${typeOf(config[key])}`);
  if ("mtu" in config && typeof config.mtu !== "number")
    problems.push(`"mtu" must be a number, not ${typeOf(config.mtu)}`);
  return problems;
}

/** Keys given both in daemon.json and as dockerd flags: dockerd refuses that too. */
export function keysAlsoGivenAsFlags(config: Record<string, unknown>, argv: readonly string[]): string[] {
  const flags = new Set(argv.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0]!));
  const aliases: Record<string, string> = { hosts: "host", labels: "label", "dns-opts": "dns-opt" };
  return Object.keys(config).filter((k) => flags.has(aliases[k] ?? k) && k !== "config-file");
}

/** Values of the networking settings that cannot work, each in words. */
export function networkSettingProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const str = (key: string) => (typeof config[key] === "string" ? (config[key] as string) : undefined);
  const bip = str("bip");
  if (bip !== undefined && !isCidr(bip))
    problems.push(`bip "${bip}" is not an address with a prefix (e.g. 10.200.0.1/24)`);
  for (const key of ["fixed-cidr", "fixed-cidr-v6"]) {
    const value = str(key);
    if (value !== undefined && !isCidr(value)) problems.push(`${key} "${value}" is not a CIDR`);
  }
  const fixed = str("fixed-cidr");
  if (bip && fixed && isCidr(bip) && isCidr(fixed) && !inSubnet(fixed, bip))
    problems.push(`fixed-cidr ${fixed} is not inside bip ${bip}`);
  for (const key of ["default-gateway", "default-gateway-v6", "ip"]) {
    const value = str(key);
    if (value !== undefined && !isIpAddress(value)) problems.push(`${key} "${value}" is not an IP address`);
  }
  if (Array.isArray(config.dns))
    for (const server of config.dns)
      if (typeof server !== "string" || !isIpAddress(server))
        problems.push(`dns entry ${JSON.stringify(server)} is not an IP address`);
  if (typeof config.mtu === "number" && (config.mtu < 68 || config.mtu > 65535 || !Number.isInteger(config.mtu)))
    problems.push(`mtu ${config.mtu} is outside 68..65535`);
  if (Array.isArray(config["default-address-pools"])) {
    const pools = config["default-address-pools"] as unknown[];
    pools.forEach((pool, i) => {
      const { base, size } = (pool ?? {}) as { base?: unknown; size?: unknown };
      if (typeof base !== "string" || !isCidr(base))
        problems.push(`default-address-pools[${i}].base ${JSON.stringify(base)} is not a CIDR`);
      else if (typeof size !== "number" || size < (prefixLength(base) ?? 0) || size > (base.includes(":") ? 128 : 32)) {
        problems.push(
          `default-address-pools[${i}].size ${JSON.stringify(size)} must be between ${prefixLength(base)} and ${base.includes(":") ? 128 : 32}`,
        );
      }
    });
    const bases = pools
      .map((p) => (p as { base?: unknown })?.base)
      .filter((b): b is string => typeof b === "string" && isCidr(b));
    bases.forEach((a, i) =>
      bases
        .slice(i + 1)
        .forEach((b) => subnetsOverlap(a, b) && problems.push(`default-address-pools ${a} and ${b} overlap`)),
    );
    // The default bridge's IPv6 subnet is not taken from the pools: a pool around it hands the same addresses out twice.
    const fixedV6 = str("fixed-cidr-v6");
    if (fixedV6 && isCidr(fixedV6))
      for (const base of bases)
        if (subnetsOverlap(fixedV6, base))
          problems.push(`fixed-cidr-v6 ${fixedV6} overlaps default-address-pools ${base}`);
  }
  return problems;
}
