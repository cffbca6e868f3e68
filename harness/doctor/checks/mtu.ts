import { finding, NotApplicable, ok, type DoctorCheck } from "../check.js";
import type { Facts } from "../facts.js";

/** The device of the main table's default route, with its MTU; also VPN-like links, which carry traffic with less room. */
function egressMtu(facts: Facts): { device: string; mtu: number } {
  const route = facts.routes().find((r) => r.dst === "default" && r.table === "main" && r.dev);
  if (!route) throw new NotApplicable("no default route on the engine's host: no egress to compare with");
  const links = facts.links();
  const vpn = links.filter((l) => l.up && ["wireguard", "tun", "ipip", "gre", "vti"].includes(l.kind));
  const egress = links.find((l) => l.name === route.dev);
  const candidates = [
    ...(egress ? [{ device: egress.name, mtu: egress.mtu }] : []),
    ...vpn.map((l) => ({ device: l.name, mtu: l.mtu })),
  ];
  if (candidates.length === 0)
    throw new NotApplicable(`the default route's device ${route.dev} is not among the links`);
  return candidates.reduce((a, b) => (b.mtu < a.mtu ? b : a));
}

/** Each bridge network's MTU: its driver option, the daemon's mtu for the default bridge, else 1500. */
function networkMtus(facts: Facts): Array<{ name: string; mtu: number }> {
  const daemonMtu = Number(facts.daemonSetting("mtu") ?? 0) || 1500;
  return facts
    .networks()
    .filter((n) => n.Driver === "bridge")
    .map((n) => {
      const option = Number(n.Options?.["com.docker.network.driver.mtu"] ?? 0);
      return { name: n.Name, mtu: option || (n.Name === "bridge" ? daemonMtu : 1500) };
    });
}

function tooLarge(facts: Facts): {
  egress: { device: string; mtu: number };
  over: Array<{ name: string; mtu: number }>;
} {
  const egress = egressMtu(facts);
  return { egress, over: networkMtus(facts).filter((n) => n.mtu > egress.mtu) };
}

export const mtuChecks: readonly DoctorCheck[] = [
  {
    id: "D-MTU-01",
    title: "No network's MTU is larger than the way out",
    why: "A container sending 1500-byte packets through a smaller link (a VPN at 1420, a cloud at 1450) gets them dropped when PMTU discovery is blocked: TLS handshakes work, downloads hang.",
    fix: 'daemon.json "mtu": N for the default bridge; -o com.docker.network.driver.mtu=N per network; or clamp MSS: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
    reference: "moby#22028; moby#22297; moby#20178",
    explains: ["DB-05", "OPT-05"],
    evaluate(facts) {
      const { egress, over } = tooLarge(facts);
      const seen = [`egress ${egress.device} MTU ${egress.mtu}`];
      return over.length
        ? finding(
            "error",
            [...seen, ...over.map((n) => `network ${n.name} MTU ${n.mtu}`)],
            `daemon.json "mtu": ${egress.mtu}, and -o com.docker.network.driver.mtu=${egress.mtu} on each network`,
          )
        : ok(...seen, "every bridge network fits");
    },
  },
  {
    id: "D-MTU-03",
    title: "A nested engine in CI uses its container's MTU",
    why: "Docker-in-Docker in CI pods and VMs often sits on a link smaller than 1500 (GKE 1460, Calico 1440); the inner daemon still defaults to 1500 and large transfers stall.",
    fix: "start the nested dockerd with --mtu=<eth0 MTU> (GitLab service command, ARC dockerMTU) and set the MTU on job networks",
    reference: "actions-runner-controller#385; docker-library/docker#103",
    evaluate(facts) {
      const inContainer = facts.text("env.container").trim() === "yes";
      const ci = facts.text("env.ci").trim();
      if (!inContainer || !ci)
        throw new NotApplicable(inContainer ? "not a CI job" : "the engine's host is not itself a container");
      const { egress, over } = tooLarge(facts);
      const seen = [`in a container, CI (${ci})`, `egress ${egress.device} MTU ${egress.mtu}`];
      return over.length
        ? finding("error", [...seen, ...over.map((n) => `network ${n.name} MTU ${n.mtu}`)])
        : ok(...seen);
    },
  },
];
