import { versionAtLeast } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { scenario } from "../harness/scenario.js";

export default [
  scenario({
    id: "ISO-01",
    title: "Containers on two different bridges cannot reach each other, until one is connected to the other's network",
    area: "isolation",
    doc: "Bridge network driver (containers on different bridges cannot communicate directly)",
    async run({ lab, check }) {
      const netA = await lab.network("a");
      const netB = await lab.network("b");
      const b = await lab.probe("b").on(netB).serving(80).start();
      const a = await lab.probe("a").on(netA).start();
      const ipB = (await lab.inspect(b)).value.networks[netB.name]?.ip ?? "?";
      check(`ping from network A to ${ipB} on network B`, derive(await a.ping(ipB), (p) => p.outcome)).isNot("reached");
      check(`TCP from network A to ${ipB}:80`, await a.connect(ipB, 80, 2)).isNot("open");
      check("connect a to network B", derive(await lab.connect(a, netB), (o) => o.message)).is("accepted");
      check(`ping to ${ipB} once on the same network`, derive(await a.ping(ipB), (p) => p.outcome)).is("reached");
      check(`TCP to ${ipB}:80 once on the same network`, await a.connect(ipB, 80)).is("open");
    },
  }),

  scenario({
    id: "ISO-02",
    title: "Another network reaches a container's published port only through a host address, never its own address",
    area: "isolation",
    doc: "Port publishing and mapping › Gateway modes (nat)",
    async run({ lab, check }) {
      const netA = await lab.network("a");
      const netB = await lab.network("b");
      const hostPort = await lab.hostPort();
      const b = await lab.probe("b").on(netB).serving(80).serving(81).publish(81, hostPort).start();
      const a = await lab.probe("a").on(netA).start();
      const ipB = (await lab.inspect(b)).value.networks[netB.name]?.ip ?? "?";
      check(`unpublished ${ipB}:80 from network A`, await a.connect(ipB, 80, 2)).isNot("open");
      check(`published port's target ${ipB}:81 from network A`, await a.connect(ipB, 81, 2)).isNot("open");
      check(`the host address ${netA.gateway}:${hostPort} from network A`, await a.connect(netA.gateway ?? "?", hostPort)).is("open");
    },
  }),

  scenario({
    id: "ISO-03",
    title: "An internal network has no way out, yet its containers and its gateway are reachable",
    area: "isolation",
    doc: "docker network create reference › --internal; no default route from 25.0 (moby/moby#46603)",
    async run({ lab, check, engine }) {
      const net = await lab.network("internal", { internal: true });
      const a = await lab.probe("a").on(net).start();
      const b = await lab.probe("b").on(net).serving(80).start();
      check("the network is internal", derive(await lab.inspectNetwork(net), (f) => f.internal)).is(true);
      if (versionAtLeast(engine.engineVersion, "25.0")) {
        check("a's default route", await a.defaultGateway()).is("none");
      }
      check(`a -> ${b.name}:80`, await a.connect(b.name, 80)).is("open");
      check(`ping to the network's gateway ${net.gateway}`, derive(await a.ping(net.gateway ?? "?"), (p) => p.outcome)).is("reached");
    },
  }),

  scenario({
    id: "ISO-05",
    title: "With enable_icc=false, containers on one bridge cannot talk, yet stay reachable through published ports",
    area: "isolation",
    doc: "Bridge network driver › Options (com.docker.network.bridge.enable_icc)",
    async run({ lab, check }) {
      const net = await lab.network("noicc", { icc: false });
      const hostPort = await lab.hostPort();
      const b = await lab.probe("b").on(net).serving(80).publish(80, hostPort).start();
      const a = await lab.probe("a").on(net).start();
      const ipB = (await lab.inspect(b)).value.networks[net.name]?.ip ?? "?";
      check(`ping ${ipB} on the same network`, derive(await a.ping(ipB), (p) => p.outcome)).isNot("reached");
      check(`TCP ${ipB}:80 on the same network`, await a.connect(ipB, 80, 2)).isNot("open");
      check(`the published port through the host address ${net.gateway}:${hostPort}`, await a.connect(net.gateway ?? "?", hostPort)).is("open");
    },
  }),
];
