import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";
import { daemonConfigProblems, keysAlsoGivenAsFlags, networkSettingProblems } from "./daemon-settings.js";
import { describePort, engineBefore, listSome, publishedPorts } from "./engine-facts.js";

export const daemonChecks: readonly DoctorCheck[] = [
  {
    id: "D-DMN-01",
    title: "Inter-container traffic on the default bridge is restricted (CIS 2.2)",
    why: "With icc on, every container on the default bridge reaches every other one on every port; CIS asks for icc=false, with user-defined networks for containers that must talk.",
    fix: 'daemon.json "icc": false, and user-defined networks for containers that talk (needs br_netfilter, see HOST-02)',
    reference: "CIS Docker Benchmark 2.2 (docker-bench-security check_2_2)",
    evaluate(facts) {
      const bridge = facts.networks().find((n) => n.Name === "bridge");
      if (!bridge) throw new NotApplicable("the engine has no default bridge (--bridge=none)");
      const icc = bridge.Options?.["com.docker.network.bridge.enable_icc"] ?? "true";
      return icc === "false"
        ? ok("default bridge enable_icc=false")
        : finding("info", [`default bridge enable_icc=${icc}`]);
    },
  },
  {
    id: "D-DMN-09",
    title: "Containers on the default bridge can talk to each other",
    why: 'With icc=false (a CIS hardening), containers on the default bridge cannot reach each other at all, which is the first thing people hit when "containers can\'t see each other".',
    fix: 'put containers that must talk on a user-defined network (docker network create app; docker run --network app …); or drop "icc": false',
    reference: "docs: Bridge network driver (Options: com.docker.network.bridge.enable_icc)",
    explains: ["DB-02", "LK-01", "LK-02", "LK-03"],
    evaluate(facts) {
      const bridge = facts.networks().find((n) => n.Name === "bridge");
      if (!bridge) throw new NotApplicable("the engine has no default bridge (--bridge=none)");
      const icc = bridge.Options?.["com.docker.network.bridge.enable_icc"] ?? "true";
      return icc === "false"
        ? finding("info", ["default bridge enable_icc=false: its containers cannot reach each other"])
        : ok(`default bridge enable_icc=${icc}`);
    },
  },
  {
    id: "D-DMN-02",
    title: "The userland proxy is off (CIS 2.16)",
    why: "docker-proxy processes accept connections for published ports even when nothing answers behind them, and hide the client's address on some paths; CIS recommends userland-proxy=false (hairpin NAT then goes through iptables).",
    fix: 'daemon.json "userland-proxy": false (old kernels may need it for hairpin NAT)',
    reference: "CIS Docker Benchmark 2.16; docs#17312; moby#45629",
    evaluate(facts) {
      facts.requireEngine();
      const proxy = facts.daemonSetting("userland-proxy");
      return proxy === false
        ? ok("userland-proxy: false")
        : finding("info", [`userland-proxy: ${proxy ?? "default (true)"}`]);
    },
  },
  {
    id: "D-DMN-03",
    title: "The daemon API is not on TCP without TLS",
    why: "An API on TCP without TLS client verification gives root on the host to anyone who can reach the port.",
    fix: '"tlsverify": true with certificates, or only the unix socket (or SSH)',
    reference: "CIS Docker Benchmark 2.7; moby daemon/info.go (API warnings)",
    evaluate(facts) {
      const warnings = (facts.info().Warnings ?? []).filter((w) => /API is accessible on/.test(w));
      const tcp = facts.dockerdHosts().filter((h) => h.startsWith("tcp://"));
      const verify = facts.daemonSetting("tlsverify") === true;
      const seen = [
        ...warnings,
        ...(tcp.length
          ? [`listens on ${tcp.join(", ")}${verify ? " with tlsverify" : ""}`]
          : ["no TCP listener configured"]),
      ];
      return warnings.length || (tcp.length && !verify) ? finding("error", seen) : ok(...seen);
    },
  },
  {
    id: "D-DMN-04",
    title: "Ports published on 127.0.0.1 are not reachable from the local network",
    why: "Before Engine 28, a port published on 127.0.0.1 answers hosts on the same L2 segment that route 127.0.0.1 to this host.",
    fix: "upgrade to Engine 28; meanwhile drop non-loopback traffic to 127.0.0.1 in the raw table",
    reference: "moby#45610; moby#41872; docs: Packet filtering and firewalls",
    evaluate(facts) {
      const local = publishedPorts(facts.containers())
        .filter((p) => p.hostIp === "127.0.0.1")
        .map(describePort);
      const version = facts.engineVersion();
      if (local.length === 0) return ok("no port is published on 127.0.0.1");
      return engineBefore(facts, "28.0")
        ? finding("warn", [`engine ${version}`, ...listSome(local)])
        : ok(`engine ${version} filters them`, ...listSome(local));
    },
  },
  {
    id: "D-DMN-05",
    title: "The daemon reports no warnings",
    why: "dockerd lists what it found wrong with its host in /info Warnings (forwarding disabled, bridge-nf-call off, an unprotected API).",
    fix: "see each warning; docker info shows them too",
    reference: "moby daemon/info.go",
    evaluate(facts) {
      const warnings = facts.info().Warnings ?? [];
      return warnings.length ? finding("warn", listSome(warnings)) : ok("no warnings in /info");
    },
  },
  {
    id: "D-DMN-06",
    title: "daemon.json is one dockerd will start with",
    why: "dockerd reads daemon.json only when it starts: an unknown key, a wrong type, a key it also has as a flag or a key newer than the engine goes unnoticed until the next restart, which then fails and takes every container down.",
    fix: "remove or correct the keys named (dockerd --validate --config-file FILE checks a file on Engine 23+)",
    reference: "docs: dockerd reference, Daemon configuration file",
    evaluate(facts) {
      const config = facts.daemonConfig();
      if (config.text === undefined) return ok(`${config.path} does not exist: the daemon runs on its defaults`);
      if (config.parseError) return finding("error", [`${config.path} is not valid JSON: ${config.parseError}`]);
      const argv = facts.optionalText("dockerd.cmdline");
      const problems = [
        ...daemonConfigProblems(
          config.parsed!,
          facts.maybe(() => facts.engineVersion()),
        ),
        ...keysAlsoGivenAsFlags(config.parsed!, argv ? (JSON.parse(argv) as string[]) : []).map(
          (k) => `"${k}" is set both in the file and as a flag: dockerd refuses that`,
        ),
      ];
      return problems.length
        ? finding("error", [config.path, ...problems])
        : ok(`${config.path}: ${Object.keys(config.parsed!).length} key(s), all known`);
    },
  },
  {
    id: "D-DMN-07",
    title: "Containers' traffic to the outside is masqueraded",
    why: "With ip-masq=false the default bridge's traffic leaves with container addresses, which the rest of the network has no route back to: egress silently fails.",
    fix: 'remove "ip-masq": false, or route the bridge subnet back to this host from the network',
    reference: "docs: dockerd reference (--ip-masq); docs: Bridge network driver (enable_ip_masquerade)",
    explains: ["DB-05"],
    evaluate(facts) {
      const masq = facts.daemonSetting("ip-masq");
      return masq === false ? finding("warn", ["ip-masq: false"]) : ok(`ip-masq: ${masq ?? "default (true)"}`);
    },
  },
  {
    id: "D-DMN-08",
    title: "The daemon's network settings are consistent",
    why: "A bip that is not an address with a prefix, a fixed-cidr outside bip, overlapping or impossible address pools, an MTU out of range or a dns entry that is not an address make dockerd refuse to start or hand out addresses nobody can route.",
    fix: "correct the values named in daemon.json",
    reference: "docs: Bridge network driver (Configure the default bridge network); dockerd reference",
    evaluate(facts) {
      const config = facts.daemonConfig();
      if (!config.parsed)
        throw new NotApplicable(
          config.text === undefined ? "no daemon.json" : "daemon.json does not parse (see DMN-06)",
        );
      const problems = networkSettingProblems(config.parsed);
      return problems.length
        ? finding("error", problems)
        : ok("bip, fixed-cidr, default-address-pools, mtu and dns are consistent (where set)");
    },
  },
];
