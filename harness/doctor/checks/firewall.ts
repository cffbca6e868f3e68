import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";
import type { Facts } from "../facts.js";
import {
  describePort,
  dockerBridgeNames,
  engineBefore,
  iptablesDisabled,
  isWildcard,
  listSome,
  publishedPorts,
} from "./engine-facts.js";

const VM_BRIDGE = /^(virbr|lxdbr|lxcbr)\d*/;

function nftablesBackend(facts: Facts): boolean {
  return facts.maybe(() => facts.info().FirewallBackend?.Driver) === "nftables";
}

/** Docker's chains (DOCKER, DOCKER-USER) are dockerd's: Podman's netavark keeps chains of its own. */
function requireDockersChains(facts: Facts): void {
  if (facts.maybe(() => facts.engineFamily()) === "podman")
    throw new NotApplicable("the engine is Podman: netavark keeps its own rules, not Docker's DOCKER chains");
}

function wildcardPorts(facts: Facts): string[] {
  return publishedPorts(facts.containers())
    .filter((p) => isWildcard(p.hostIp))
    .map(describePort);
}

export const firewallChecks: readonly DoctorCheck[] = [
  {
    id: "D-FW-01",
    title: "Docker's FORWARD DROP policy does not cut off other bridges",
    why: "When dockerd turns forwarding on it sets the FORWARD policy to DROP; every bridge that is not Docker's (libvirt, LXD, a lab bridge) then stops forwarding unless a rule lets it through.",
    fix: 'iptables -I DOCKER-USER -i BRIDGE -o BRIDGE -j ACCEPT (and for traffic leaving it), or daemon "ip-forward-no-drop": true on Engine 28+',
    reference: "moby#39439; docker/for-linux#949; docs#7370; docs: Packet filtering and firewalls",
    evaluate(facts) {
      const filter = facts.ruleset("iptables.filter");
      const policy = filter.policies.get("FORWARD") ?? "ACCEPT";
      if (policy !== "DROP") return ok(`FORWARD policy ${policy}`);
      const ours = dockerBridgeNames(facts.networks());
      const others = facts
        .links()
        .filter((l) => l.kind === "bridge" && !ours.has(l.name))
        .map((l) => l.name);
      const cutOff = others.filter(
        (bridge) => !filter.rules.some((r) => new RegExp(`-[io] ${bridge}( |$)`).test(r) && / -j ACCEPT/.test(r)),
      );
      if (cutOff.length === 0)
        return ok(
          "FORWARD policy DROP",
          others.length ? `other bridges with an accept rule: ${others.join(", ")}` : "no bridge but Docker's",
        );
      return finding(
        cutOff.some((b) => VM_BRIDGE.test(b)) ? "error" : "warn",
        ["FORWARD policy DROP", ...cutOff.map((b) => `bridge ${b} is not Docker's and no rule accepts its traffic`)],
        `iptables -I DOCKER-USER -i ${cutOff[0]} -j ACCEPT; iptables -I DOCKER-USER -o ${cutOff[0]} -j ACCEPT`,
      );
    },
  },
  {
    id: "D-FW-02",
    title: "Container subnets are not open to hosts that route through this one",
    why: "Before Engine 28, with forwarding on and the FORWARD policy ACCEPT (Docker leaves it alone when forwarding was already on), anyone routing via this host reaches every container port directly, published or not.",
    fix: "iptables -P FORWARD DROP, or DROP rules in DOCKER-USER for traffic from outside interfaces; Engine 28+ filters direct routing",
    reference: "moby/libnetwork PR#2450; moby#14041; Engine 28 release notes",
    evaluate(facts) {
      const policy = facts.ruleset("iptables.filter").policies.get("FORWARD") ?? "ACCEPT";
      const forwarding = facts.sysctl("net.ipv4.ip_forward");
      const seen = [
        `FORWARD policy ${policy}`,
        `net.ipv4.ip_forward = ${forwarding}`,
        `engine ${facts.engineVersion()}`,
      ];
      return policy === "ACCEPT" && forwarding === 1 && engineBefore(facts, "28.0")
        ? finding("warn", seen)
        : ok(...seen);
    },
  },
  {
    id: "D-FW-03",
    title: "ufw is not believed to guard ports Docker publishes on every address",
    why: "Docker's NAT rules run before ufw's: a port published on 0.0.0.0 or :: is reachable even when ufw denies it.",
    fix: 'publish on 127.0.0.1 or a chosen address (-p 127.0.0.1:8080:80), set daemon "ip": "127.0.0.1", or put the rules in DOCKER-USER',
    reference: "moby#4737; docker/for-linux#690; docs: Packet filtering and firewalls",
    evaluate(facts) {
      const ufw = facts.text("firewall.ufw").trim();
      if (!/Status: active/.test(ufw)) return ok(`ufw: ${ufw.split("\n")[0] || "inactive"}`);
      const wildcard = wildcardPorts(facts);
      return wildcard.length
        ? finding("error", ["ufw is active", ...listSome(wildcard)])
        : ok("ufw is active", "no port is published on every address");
    },
  },
  {
    id: "D-FW-04",
    title: "firewalld and Docker coexist",
    why: "With firewalld, Docker's interfaces live in the docker zone and published ports bypass the public zone's rules; reloading firewalld on old engines drops Docker's chains.",
    fix: "filter published ports in DOCKER-USER; bind ports to chosen addresses; leave Docker's interfaces in the docker zone",
    reference: "docs: Packet filtering and firewalls; moby#35043; firewalld#503",
    evaluate(facts) {
      const state = facts.text("firewall.firewalld").trim();
      return state === "running"
        ? finding("warn", ["firewalld is running"])
        : ok(`firewalld: ${state || "not running"}`);
    },
  },
  {
    id: "D-FW-05",
    title: "Docker's iptables chains exist and are hooked into FORWARD and NAT",
    why: "A firewall tool that flushes the tables (ferm, csf, a restart of iptables) removes Docker's chains: isolation, NAT and published ports stop working until dockerd restarts.",
    fix: "systemctl restart docker; stop the firewall tool from flushing, or restart docker after it reloads",
    reference: "moby#12294; moby#16816; moby#10218",
    explains: ["DB-05", "PP-01", "PP-05", "ISO-01", "ISO-02", "PP-07"],
    evaluate(facts) {
      facts.requireEngine();
      requireDockersChains(facts);
      if (iptablesDisabled(facts))
        throw new NotApplicable("the daemon does not manage iptables (iptables=false; see FW-08)");
      if (nftablesBackend(facts)) throw new NotApplicable("the engine uses its nftables backend (see FW-07)");
      const filter = facts.ruleset("iptables.filter");
      const nat = facts.ruleset("iptables.nat");
      const missing: string[] = [];
      for (const chain of ["DOCKER", "DOCKER-USER"])
        if (!filter.chains.has(chain)) missing.push(`filter chain ${chain} is missing`);
      if (!filter.rules.some((r) => r.startsWith("-A FORWARD") && r.includes("-j DOCKER-USER")))
        missing.push("FORWARD does not jump to DOCKER-USER");
      if (!filter.rules.some((r) => r.startsWith("-A FORWARD") && /-j DOCKER(-FORWARD)?( |$)/.test(r)))
        missing.push("FORWARD jumps to neither DOCKER-FORWARD nor DOCKER");
      if (!nat.chains.has("DOCKER")) missing.push("nat chain DOCKER is missing");
      if (!nat.rules.some((r) => r.startsWith("-A PREROUTING") && r.includes("-j DOCKER")))
        missing.push("nat PREROUTING does not jump to DOCKER");
      return missing.length
        ? finding("error", missing)
        : ok("DOCKER and DOCKER-USER exist; FORWARD and nat PREROUTING jump to them");
    },
  },
  {
    id: "D-FW-10",
    title: "Isolation between bridges holds while networks are created",
    why: "Before Engine 28.0.1, FORWARD jumps straight to DOCKER-USER and DOCKER-ISOLATION-STAGE-1, and every `docker network create` deletes those jumps and inserts them again (libnetwork's ensureJumpRule: -D, then -I; libnetwork#1658 calls it non-atomic). For that moment traffic between bridges is neither isolated nor filtered by DOCKER-USER: while networks were created, 109 of 700 cross-bridge requests were answered on 20.10 and 90 of 678 on 26.1, none on 28.5 (bench/isolation-lapse). Since 28.0.1 FORWARD only jumps to DOCKER-USER and DOCKER-FORWARD, set once at startup.",
    fix: "upgrade to Engine 28.0.1 or later; until then, create networks before the containers that must stay apart start, or not while untrusted ones run",
    reference:
      "moby/libnetwork#1658; moby#49518 (Engine 28.0.1: the bridge driver no longer touches FORWARD after startup); bench/isolation-lapse",
    evaluate(facts) {
      requireDockersChains(facts);
      if (iptablesDisabled(facts)) throw new NotApplicable("Docker manages no iptables rules (iptables: false)");
      if (nftablesBackend(facts)) throw new NotApplicable("the firewall backend is nftables: FORWARD is not Docker's");
      const forward = facts.ruleset("iptables.filter").rules.filter((r) => r.startsWith("-A FORWARD "));
      const rebuilt = forward.filter((r) => /^-A FORWARD -j (DOCKER-USER|DOCKER-ISOLATION-STAGE-1)$/.test(r));
      const seen = [`engine ${facts.engineVersion()}`, ...(rebuilt.length ? rebuilt : listSome(forward))];
      return rebuilt.some((r) => r.endsWith("DOCKER-ISOLATION-STAGE-1")) && engineBefore(facts, "28.0.1")
        ? finding("info", [...seen, "each docker network create deletes and re-inserts these jumps"])
        : ok(...seen);
    },
  },
  {
    id: "D-FW-09",
    title: "What DOCKER-USER restricts",
    why: "DOCKER-USER is where an administrator filters traffic to containers (published ports included); a rule there that drops or rejects explains a port or a container that other hosts cannot reach.",
    fix: "iptables -S DOCKER-USER to read the rules; iptables -D DOCKER-USER <rule> to remove one that is not meant",
    reference: "docs: Packet filtering and firewalls (Add iptables policies before Docker's rules)",
    explains: ["PP-05", "DB-05", "OPT-05"],
    evaluate(facts) {
      if (iptablesDisabled(facts))
        throw new NotApplicable("the daemon does not manage iptables (iptables=false; see FW-08)");
      const filter = facts.ruleset("iptables.filter");
      if (!filter.chains.has("DOCKER-USER")) throw new NotApplicable("there is no DOCKER-USER chain (see FW-05)");
      const rules = filter.rules.filter((r) => r.startsWith("-A DOCKER-USER ") && r !== "-A DOCKER-USER -j RETURN");
      const restricting = rules.filter((r) => /-j (DROP|REJECT)\b/.test(r));
      if (restricting.length) return finding("warn", listSome(restricting));
      return rules.length ? finding("info", listSome(rules)) : ok("DOCKER-USER holds only its RETURN");
    },
  },
  {
    id: "D-FW-06",
    title: "Docker's rules and the host firewall use one iptables backend",
    why: "With rules in both iptables-legacy and iptables-nft, Docker's rules sit in one and the host firewall in the other; the kernel runs both and the result surprises everyone.",
    fix: "update-alternatives --set iptables (and ip6tables) to one backend, restart docker, reboot to drop the stale tables",
    reference: "moby/libnetwork#2331; moby#26824; moby#46147; docs#11612",
    evaluate(facts) {
      const count = (text: string | undefined) => (text ?? "").split("\n").filter((l) => l.startsWith("-A ")).length;
      const [legacy, nft] = [
        count(facts.optionalText("iptables.legacy-save")),
        count(facts.optionalText("iptables.nft-save")),
      ];
      const version = facts.optionalText("iptables.version")?.trim() ?? "iptables -V unavailable";
      const seen = [version, `iptables-legacy rules: ${legacy}`, `iptables-nft rules: ${nft}`];
      return legacy > 0 && nft > 0 ? finding("error", seen) : ok(...seen);
    },
  },
  {
    id: "D-FW-07",
    title: "The nftables firewall backend is used only where it is supported",
    why: "Engine 29's nftables backend does not support Swarm and does not migrate DOCKER-USER iptables rules.",
    fix: "keep the iptables backend for Swarm; move DOCKER-USER rules to nftables",
    reference: "docs: firewall-nftables.md",
    evaluate(facts) {
      const info = facts.info();
      const backend = info.FirewallBackend?.Driver ?? "iptables (the engine reports no FirewallBackend)";
      if (backend !== "nftables") return ok(`firewall backend: ${backend}`);
      const problems = [
        ...(info.Swarm?.LocalNodeState === "active" ? ["Swarm is active"] : []),
        ...(
          facts.maybe(() =>
            facts
              .ruleset("iptables.filter")
              .rules.filter((r) => r.startsWith("-A DOCKER-USER") && !r.endsWith("-j RETURN")),
          ) ?? []
        ).map((r) => `DOCKER-USER rule not migrated: ${r}`),
      ];
      return problems.length
        ? finding("warn", ["firewall backend: nftables", ...problems])
        : finding("info", ["firewall backend: nftables"]);
    },
  },
  {
    id: "D-FW-08",
    title: "Docker manages iptables",
    why: "With iptables=false Docker adds no NAT and no isolation: containers have no masqueraded way out, bridges are not isolated and every container port is reachable.",
    fix: 'remove "iptables": false (and "ip6tables": false) from daemon.json and --iptables=false from dockerd\'s command line',
    reference: "CIS Docker Benchmark 2.4; docs: Packet filtering and firewalls",
    explains: ["DB-05", "ISO-01", "PP-01", "PP-05"],
    evaluate(facts) {
      const iptables = facts.daemonSetting("iptables");
      const ip6tables = facts.daemonSetting("ip6tables");
      const seen = [`iptables: ${iptables ?? "default (true)"}`, `ip6tables: ${ip6tables ?? "default"}`];
      return iptables === false ? finding("error", seen) : ok(...seen);
    },
  },
];
