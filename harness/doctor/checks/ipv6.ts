import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";
import type { Facts } from "../facts.js";
import { engineBefore } from "./engine-facts.js";

const ipv6Networks = (facts: Facts) =>
  facts
    .networks()
    .filter((n) => n.EnableIPv6)
    .map((n) => n.Name);

export const ipv6Checks: readonly DoctorCheck[] = [
  {
    id: "D-IPV6-01",
    title: "IPv6 networks are filtered by ip6tables",
    why: "Without ip6tables (off by default before Engine 27) Docker adds no IPv6 filtering or NAT: with a global address every container port is reachable, published or not.",
    fix: 'daemon.json "ip6tables": true (the default from 27; "experimental": true too before 26), or ULA addresses with NAT',
    reference: "docs#16248; moby#25407; docs: Packet filtering and firewalls",
    explains: ["V6-02"],
    evaluate(facts) {
      const networks = ipv6Networks(facts);
      if (networks.length === 0) throw new NotApplicable("no IPv6 network");
      const setting = facts.daemonSetting("ip6tables");
      const on = setting === true || (setting === undefined && !engineBefore(facts, "27.0"));
      const seen = [
        `IPv6 networks: ${networks.join(", ")}`,
        `ip6tables: ${setting ?? `default (${on})`} on engine ${facts.engineVersion()}`,
      ];
      return on ? ok(...seen) : finding("warn", seen);
    },
  },
  {
    id: "D-IPV6-03",
    title: "IPv6 is not disabled on a host whose engine uses it",
    why: "With IPv6 disabled by sysctl, IPv6 networks fail to create and Engine 28.0.0 does not even start unless ip6tables is off.",
    fix: "sysctl -w net.ipv6.conf.all.disable_ipv6=0, or no IPv6 networks (and ip6tables:false on 28.0.0; upgrade to 28.0.1)",
    reference: "Engine 28.0.1 release notes (moby#49525)",
    explains: ["V6-02"],
    evaluate(facts) {
      const disabled = facts.sysctl("net.ipv6.conf.all.disable_ipv6");
      const wants = [
        ...(facts.daemonSetting("ipv6") === true ? ["daemon ipv6: true"] : []),
        ...ipv6Networks(facts).map((n) => `IPv6 network ${n}`),
      ];
      const seen = [`net.ipv6.conf.all.disable_ipv6 = ${disabled}`, ...wants];
      if (disabled === 1 && facts.engineVersion() === "28.0.0")
        return finding("error", [...seen, "Engine 28.0.0 fails to start with IPv6 disabled unless ip6tables is false"]);
      return disabled === 1 && wants.length ? finding("warn", seen) : ok(...seen);
    },
  },
  {
    id: "D-IPV6-04",
    title: "IPv6 forwarding is on where IPv6 networks exist",
    why: "With net.ipv6.conf.all.forwarding=0 the host does not route IPv6 between a bridge and anything else: IPv6 egress and IPv6 published ports from other machines fail.",
    fix: "sysctl -w net.ipv6.conf.all.forwarding=1 (mind router advertisements on the uplink: accept_ra=2)",
    reference: "docker/for-linux#648; moby#32605",
    explains: ["V6-02"],
    evaluate(facts) {
      const networks = ipv6Networks(facts);
      if (networks.length === 0) throw new NotApplicable("no IPv6 network");
      const forwarding = facts.sysctl("net.ipv6.conf.all.forwarding");
      const seen = [`net.ipv6.conf.all.forwarding = ${forwarding}`, `IPv6 networks: ${networks.join(", ")}`];
      return forwarding === 1 ? ok(...seen) : finding("warn", seen);
    },
  },
];
