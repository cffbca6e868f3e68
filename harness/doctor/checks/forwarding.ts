import type { ScenarioId } from "../../../scenarios/ids.js";
import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";

const EGRESS_SCENARIOS: readonly ScenarioId[] = ["DB-05", "OPT-05", "PP-05", "ISO-02", "PP-07"];

export const forwardingChecks: readonly DoctorCheck[] = [
  {
    id: "D-HOST-01",
    title: "IPv4 forwarding is on in the engine's network namespace",
    why: "Without net.ipv4.ip_forward=1 the host does not route between a bridge and anything else: containers have no way out and published ports do not answer from other machines.",
    fix: "sysctl -w net.ipv4.ip_forward=1, persisted in /etc/sysctl.d/ (and remove any file that sets it to 0); then restart docker",
    reference: "moby daemon/info.go (IPv4Forwarding warning); moby#47966; moby#14185",
    explains: EGRESS_SCENARIOS,
    evaluate(facts) {
      facts.requireEngine();
      const value = facts.sysctl("net.ipv4.ip_forward");
      const seen = [`net.ipv4.ip_forward = ${value}`];
      const info = facts.maybe(() => facts.info());
      if (info?.IPv4Forwarding === false) seen.push("the engine reports IPv4Forwarding: false");
      // dockerd turns forwarding on when it starts unless told not to: 0 now means it was reset since, or forbidden.
      const daemonForwards = facts.maybe(() => facts.daemonSetting("ip-forward")) !== false;
      if (value === 1) return ok(...seen);
      seen.push(
        daemonForwards
          ? "dockerd sets it to 1 when it starts: something reset it since (a sysctl file, a network manager, a hardening script)"
          : "the daemon runs with ip-forward: false and will not turn it on",
      );
      return finding("error", seen);
    },
  },
  {
    id: "D-HOST-02",
    title: "br_netfilter is loaded where inter-container traffic must be filtered",
    why: "icc=false (daemon-wide or per network) is enforced by iptables on bridged traffic, which the kernel only sees with br_netfilter and bridge-nf-call-iptables=1; without it containers that should be isolated still talk.",
    fix: "modprobe br_netfilter and list it in /etc/modules-load.d/; sysctl -w net.bridge.bridge-nf-call-iptables=1",
    reference: "moby#48492 (fixes moby#48375, moby#48411); moby#49089",
    explains: ["ISO-05"],
    evaluate(facts) {
      const iccOff = [
        ...(facts.daemonSetting("icc") === false ? ["daemon icc=false"] : []),
        ...facts
          .networks()
          .filter((n) => n.Driver === "bridge" && n.Options?.["com.docker.network.bridge.enable_icc"] === "false")
          .map((n) => `network ${n.Name}: enable_icc=false`),
      ];
      if (iccOff.length === 0)
        throw new NotApplicable("no network filters inter-container traffic (icc is on everywhere)");
      const callIptables = facts.optionalText("sysctl.net.bridge.bridge-nf-call-iptables")?.trim();
      const seen = [
        ...iccOff,
        callIptables === undefined
          ? "net.bridge.bridge-nf-call-iptables does not exist (br_netfilter not loaded)"
          : `net.bridge.bridge-nf-call-iptables = ${callIptables}`,
      ];
      return callIptables === "1" ? ok(...seen) : finding("warn", seen);
    },
  },
  {
    id: "D-HOST-03",
    title: "No network manager manages Docker's interfaces",
    why: "systemd-networkd or NetworkManager configuring docker0, br-* or veth* can strip their addresses, and containers lose their gateway at random.",
    fix: "networkd: a .network file matching docker0 br-* veth* with Unmanaged=yes; NetworkManager: unmanaged-devices=interface-name:docker0;interface-name:br-*;interface-name:veth*",
    reference: "moby#40217; coreos/bugs#1205",
    evaluate(facts) {
      const docker = (name: string) => name === "docker0" || name.startsWith("br-") || name.startsWith("veth");
      const seen: string[] = [];
      const managed: string[] = [];
      const networkd = facts.optionalText("netmanager.networkd");
      if (networkd === undefined || networkd === "not installed") seen.push("systemd-networkd: not running");
      else {
        for (const line of networkd.split("\n")) {
          const [, name, , , setup] = line.trim().split(/\s+/);
          if (name && docker(name) && /^(configured|configuring)$/.test(setup ?? ""))
            managed.push(`networkd ${setup} ${name}`);
        }
        seen.push("systemd-networkd: running");
      }
      const nm = facts.optionalText("netmanager.networkmanager");
      if (nm === undefined || nm === "not installed") seen.push("NetworkManager: not running");
      else {
        for (const line of nm.split("\n")) {
          const [name, state] = line.trim().split(":");
          if (name && docker(name) && state && state !== "unmanaged") managed.push(`NetworkManager ${state} ${name}`);
        }
        seen.push("NetworkManager: running");
      }
      return managed.length ? finding("warn", managed) : ok(...seen);
    },
  },
];
