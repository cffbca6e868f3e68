import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";
import { listSome } from "./engine-facts.js";

const WILDCARD = new Set(["0.0.0.0", "::"]);

export const swarmChecks: readonly DoctorCheck[] = [
  {
    id: "D-SWM-01",
    title: "Swarm mode is off unless it is used",
    why: "An active swarm opens its management (2377/tcp), gossip (7946) and VXLAN (4789/udp) ports and creates ingress and docker_gwbridge.",
    fix: "docker swarm leave (when the host needs no swarm)",
    reference: "CIS Docker Benchmark 5.1",
    evaluate(facts) {
      const state = facts.info().Swarm?.LocalNodeState ?? "inactive";
      return state === "active" ? finding("info", ["swarm: active"]) : ok(`swarm: ${state}`);
    },
  },
  {
    id: "D-SWM-02",
    title: "The swarm management port is not bound to every address",
    why: "2377/tcp on 0.0.0.0 or [::] exposes the swarm's control plane on every interface, the public one included.",
    fix: "docker swarm init/join --listen-addr and --advertise-addr on a private address",
    reference: "CIS Docker Benchmark 7.2",
    evaluate(facts) {
      if ((facts.info().Swarm?.LocalNodeState ?? "inactive") !== "active")
        throw new NotApplicable("swarm is not active");
      const open = facts.listening().filter((s) => s.port === 2377 && WILDCARD.has(s.address));
      return open.length
        ? finding(
            "warn",
            open.map((s) => `2377/tcp listens on ${s.address}`),
          )
        : ok("2377/tcp is bound to a chosen address");
    },
  },
  {
    id: "D-SWM-03",
    title: "Overlay networks are encrypted",
    why: "VXLAN carries overlay traffic in clear between nodes; without --opt encrypted anyone on the path reads it.",
    fix: "docker network create -d overlay --opt encrypted …, and allow ESP (IP protocol 50) between nodes",
    reference: "CIS Docker Benchmark 7.3",
    evaluate(facts) {
      const overlays = facts.networks().filter((n) => n.Driver === "overlay");
      if (overlays.length === 0) throw new NotApplicable("no overlay network");
      const clear = overlays
        .filter((n) => !("encrypted" in (n.Options ?? {})))
        .map((n) => `${n.Name} is not encrypted`);
      return clear.length
        ? finding("warn", listSome(clear))
        : ok(`${overlays.length} overlay network(s), all encrypted`);
    },
  },
];
