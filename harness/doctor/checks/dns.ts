import { compareVersions } from "../../capabilities.js";
import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";
import { engineBefore } from "./engine-facts.js";

const isLoopback = (ns: string) => ns.startsWith("127.") || ns === "::1";

/** Engines with the fix for CVE-2024-29018 (internal networks leaking DNS through a loopback resolver). */
function hasDnsLeakFix(version: string): boolean {
  if (compareVersions(version, "26.0.0") >= 0) return true;
  if (compareVersions(version, "25.0.0") >= 0) return compareVersions(version, "25.0.5") >= 0;
  return compareVersions(version, "23.0.11") >= 0 && compareVersions(version, "24.0.0") < 0;
}

export const dnsChecks: readonly DoctorCheck[] = [
  {
    id: "D-DNS-01",
    title: "The host's resolv.conf gives containers a resolver they can reach",
    why: "Containers cannot use the host's loopback resolver (systemd-resolved 127.0.0.53, dnsmasq 127.0.0.1). Docker drops loopback servers; with none left, engines before 28 fall back to 8.8.8.8/8.8.4.4 (often blocked) and 28+ leave containers without DNS.",
    fix: 'daemon.json "dns": ["<a resolver reachable from the bridge>"], or point /etc/resolv.conf at /run/systemd/resolve/resolv.conf',
    reference: "moby PR#41022; moby#38243; docker/for-linux#889",
    explains: ["DB-04", "DNS-01"],
    evaluate(facts) {
      const conf = facts.resolvConf();
      if (!conf.exists) throw new NotApplicable("/etc/resolv.conf does not exist (see DNS-02)");
      const dns = facts.daemonSetting("dns");
      const seen = [
        `nameservers: ${conf.nameservers.join(", ") || "none"}${conf.target && conf.target !== "/etc/resolv.conf" ? ` (from ${conf.target})` : ""}`,
      ];
      if (Array.isArray(dns) && dns.length) return ok(...seen, `daemon dns: ${dns.join(", ")}`);
      const usable = conf.nameservers.filter((n) => !isLoopback(n));
      if (usable.length) return ok(...seen, `default-bridge containers get: ${usable.join(", ")}`);
      const before28 = engineBefore(facts, "28.0");
      return finding(before28 ? "warn" : "error", [
        ...seen,
        "every nameserver is loopback and the daemon sets no dns",
        before28
          ? "default-bridge containers get Google's 8.8.8.8 and 8.8.4.4 instead"
          : "default-bridge containers get no usable nameserver",
      ]);
    },
  },
  {
    id: "D-DNS-02",
    title: "/etc/resolv.conf exists",
    why: "A missing or dangling /etc/resolv.conf leaves containers with no upstream resolver; since Engine 28 Docker no longer falls back to Google's servers in most cases.",
    fix: 'ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf (or a file with real nameservers), or daemon.json "dns"',
    reference: "moby#49665; Engine 28 release notes",
    explains: ["DB-04", "DNS-01"],
    evaluate(facts) {
      const conf = facts.resolvConf();
      if (conf.exists) return ok(`/etc/resolv.conf${conf.link ? ` -> ${conf.link}` : ""} exists`);
      return finding("error", [
        conf.link ? `/etc/resolv.conf -> ${conf.link}, which does not exist` : "/etc/resolv.conf does not exist",
      ]);
    },
  },
  {
    id: "D-DNS-04",
    title: "Internal networks cannot leak DNS through a loopback resolver",
    why: "Before the fix for CVE-2024-29018, the embedded DNS of an --internal network forwarded queries through the host's loopback resolver: data could leave a network meant to have no way out.",
    fix: "upgrade the engine (25.0.5, 26.0.0 or later; 23.0.11 on the 23 line)",
    reference: "CVE-2024-29018; moby#47589; 25.0.5 release notes",
    explains: ["ISO-03"],
    evaluate(facts) {
      const internal = facts
        .networks()
        .filter((n) => n.Internal)
        .map((n) => n.Name);
      if (internal.length === 0) throw new NotApplicable("no internal network");
      const version = facts.engineVersion();
      const loopback = facts.resolvConf().nameservers.filter(isLoopback);
      const seen = [
        `engine ${version}`,
        `internal networks: ${internal.join(", ")}`,
        `loopback nameservers: ${loopback.join(", ") || "none"}`,
      ];
      return !hasDnsLeakFix(version) && loopback.length ? finding("warn", seen) : ok(...seen);
    },
  },
];
