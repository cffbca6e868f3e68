import { finding, ok, type DoctorCheck, type Severity } from "../check.js";
import type { Facts } from "../facts.js";
import { KERNEL_TIERS, moduleOf } from "../../kernel-config.js";

export { KERNEL_TIERS };

function missing(facts: Facts, options: readonly string[]): string[] {
  const have = facts.kernelOptions();
  return options.filter((o) => !have.has(o));
}

/** A check for one tier: an error when the feature is in use, information otherwise. */
function tierCheck(
  id: string,
  title: string,
  options: readonly string[],
  inUse: (facts: Facts) => string | undefined,
  why: string,
): DoctorCheck {
  return {
    id,
    title,
    why,
    fix: "a kernel with these options, or load their modules (modprobe); not fixable inside LXC or OpenVZ guests",
    reference: "moby contrib/check-config.sh",
    evaluate(facts) {
      const absent = missing(facts, options);
      if (absent.length === 0) return ok(...howSet(facts, options));
      const use = inUse(facts);
      const severity: Severity = use ? "error" : "info";
      return finding(severity, [`kernel has no ${absent.join(", ")} (${use ? `needed: ${use}` : "not in use here"})`]);
    },
  };
}

/**
 * How each option is there: built in, or a module already loaded, or a module
 * the kernel loads on first use (a stock distribution kernel: most are).
 */
function howSet(facts: Facts, options: readonly string[]): string[] {
  const have = facts.kernelOptions();
  const loaded = facts.maybe(() => facts.loadedModules()) ?? new Set<string>();
  const name = (o: string) => o.replace("CONFIG_", "");
  const builtIn = options.filter((o) => have.get(o) === "y");
  const modules = options.filter((o) => have.get(o) === "m");
  const inUse = modules.filter((o) => loaded.has(moduleOf(o)));
  const notYet = modules.filter((o) => !loaded.has(moduleOf(o)));
  return [
    `${options.length} option(s) set`,
    ...(builtIn.length ? [`built in: ${builtIn.map(name).join(", ")}`] : []),
    ...(inUse.length ? [`modules, loaded: ${inUse.map((o) => moduleOf(o)).join(", ")}`] : []),
    ...(notYet.length
      ? [`modules, not loaded yet (the kernel loads them on first use): ${notYet.map((o) => moduleOf(o)).join(", ")}`]
      : []),
  ];
}

const networksOf = (facts: Facts, driver: string) =>
  facts
    .networks()
    .filter((n) => n.Driver === driver)
    .map((n) => n.Name);
const swarmActive = (facts: Facts) =>
  facts.maybe(() => facts.info().Swarm?.LocalNodeState) === "active" ? "swarm is active" : undefined;
const usedBy = (facts: Facts, driver: string) => {
  const names = facts.maybe(() => networksOf(facts, driver)) ?? [];
  return names.length ? `${driver} networks: ${names.join(", ")}` : undefined;
};

export const kernelChecks: readonly DoctorCheck[] = [
  tierCheck(
    "D-KCFG-01",
    "The kernel has what bridge networking needs",
    KERNEL_TIERS.bridge,
    () => "every bridge network",
    "Without veth, bridge, netfilter NAT and conntrack, Docker's default networking cannot be set up at all.",
  ),
  tierCheck(
    "D-KCFG-02",
    "The kernel has IPVS for swarm load balancing",
    KERNEL_TIERS.ipvs,
    swarmActive,
    "Swarm services' VIPs and the routing mesh are IPVS: without it services get no load balancing and published service ports do not answer.",
  ),
  tierCheck(
    "D-KCFG-03",
    "The kernel has VXLAN for overlay networks",
    KERNEL_TIERS.overlay,
    (f) => usedBy(f, "overlay") ?? swarmActive(f),
    "Overlay networks are VXLAN tunnels between nodes.",
  ),
  tierCheck(
    "D-KCFG-05",
    "The kernel has IPsec for encrypted overlays",
    KERNEL_TIERS.encryptedOverlay,
    (f) => {
      const encrypted = (f.maybe(() => f.networks()) ?? [])
        .filter((n) => n.Driver === "overlay" && "encrypted" in (n.Options ?? {}))
        .map((n) => n.Name);
      return encrypted.length ? `encrypted overlays: ${encrypted.join(", ")}` : undefined;
    },
    "Encrypted overlays are IPsec ESP with AES-GCM between nodes: without XFRM and ESP their traffic is black-holed.",
  ),
  tierCheck(
    "D-KCFG-04",
    "The kernel has macvlan",
    [...KERNEL_TIERS.macvlan, ...KERNEL_TIERS.dummy],
    (f) => usedBy(f, "macvlan"),
    "macvlan networks give containers their own MAC on a parent interface.",
  ),
  tierCheck(
    "D-KCFG-06",
    "The kernel has ipvlan",
    KERNEL_TIERS.ipvlan,
    (f) => usedBy(f, "ipvlan"),
    "ipvlan networks share the parent's MAC with L2 or L3 modes.",
  ),
];
