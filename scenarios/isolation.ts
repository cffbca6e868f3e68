import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { AFTER_CONTROL_SECONDS } from "../harness/lab/probe.js";
import { scenario } from "../harness/scenario.js";
import { defaultBridgePair, userBridgePair } from "./topologies.js";

// Every "cannot reach" claim below comes after a control that shows the same
// target answering from where it should: a blocked path proves nothing about
// isolation if the server was never up.

export default [
  scenario({
    id: "ISO-01",
    title: "Containers on two different bridges cannot reach each other, until one is connected to the other's network",
    area: "isolation",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: "Bridge network driver (containers on different bridges cannot communicate directly)",
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check }) {
      // Network B is the shared user bridge: b serves on 80, and its client is b's neighbour.
      // Podman too: networks made through its Docker API are isolated (isolate=true, podman#15016, 4.2).
      const { net: netB, db: b, client: neighbour } = await lab.shared(userBridgePair);
      const netA = await lab.network("a");
      const a = await lab.probe("a").on(netA).start();
      const ipB = check("b's address on network B", await lab.addressOn(b, netB)).matches(IPV4_ADDRESS);
      check(`control: ${ipB}:80 from network B`, await neighbour.request(ipB, 80)).is("HTTP 404");
      // Both "cannot reach" checks at once, each waiting a second: the control answered in milliseconds.
      // No network is created meanwhile: Docker before 28 lifts isolation for a moment while it makes one.
      const [ping, http] = await lab.steadyFirewall(() =>
        Promise.all([
          a.ping(ipB, "ipv4", { waitSeconds: AFTER_CONTROL_SECONDS }),
          a.request(ipB, 80, AFTER_CONTROL_SECONDS),
        ]),
      );
      check(
        `ping from network A to ${ipB}`,
        derive(ping, (p) => p.outcome),
      ).isNot("reached");
      check(`${ipB}:80 from network A`, http).isNot("HTTP 404");
      check("connect a to network B", await lab.connect(a, netB)).is("accepted");
      check(
        `ping ${ipB} once on the same network`,
        derive(await a.ping(ipB), (p) => p.outcome),
      ).is("reached");
      check(`${ipB}:80 once on the same network`, await a.request(ipB, 80)).is("HTTP 404");
    },
  }),

  scenario({
    id: "ISO-02",
    title: "Another network reaches a container's published port only through a host address, never its own address",
    area: "isolation",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: "Port publishing and mapping › Gateway modes (nat)",
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check }) {
      const netA = await lab.network("a");
      const netB = await lab.network("b");
      const hostPort = await lab.hostPort();
      const b = await lab.probe("b").on(netB).serving(80).serving(81).publish(81, hostPort).start();
      const neighbour = await lab.probe("neighbour").on(netB).start();
      const a = await lab.probe("a").on(netA).start();
      const ipB = check("b's address on network B", await lab.addressOn(b, netB)).matches(IPV4_ADDRESS);
      check(`control: ${ipB}:80 from network B`, await neighbour.request(ipB, 80)).is("HTTP 404");
      check(`control: ${ipB}:81 from network B`, await neighbour.request(ipB, 81)).is("HTTP 404");
      const [unpublished, target] = await lab.steadyFirewall(() =>
        Promise.all([a.request(ipB, 80, AFTER_CONTROL_SECONDS), a.request(ipB, 81, AFTER_CONTROL_SECONDS)]),
      );
      check(`unpublished ${ipB}:80 from network A`, unpublished).isNot("HTTP 404");
      check(`the published port's target ${ipB}:81 from network A`, target).isNot("HTTP 404");
      const hostAddress = check("network A's gateway (a host address)", await lab.gatewayOn(a, netA)).matches(
        IPV4_ADDRESS,
      );
      check(`the host address ${hostAddress}:${hostPort} from network A`, await a.request(hostAddress, hostPort)).is(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "ISO-03",
    title: "An internal network has no way out, yet its containers and its gateway are reachable",
    area: "isolation",
    doc: "docker network create reference › --internal; no default route from 25.0 (moby/moby#46603)",
    brokenBy: "network-options-ignored",
    async run({ since, lab, check, engine }) {
      const net = await lab.network("internal", { internal: true });
      const a = await lab.probe("a").on(net).start();
      const b = await lab.probe("b").on(net).serving(80).start();
      // Before 25.0 the route is there and the firewall drops what leaves; either way nothing gets out.
      const outside = engine.outsideHost;
      if (outside) {
        const { client } = await lab.shared(defaultBridgePair);
        check(
          `control: http://${outside.address} (the outside host) from a default-bridge container`,
          await client.request(outside.address, 80),
        ).is("HTTP 404");
        check(
          `http://${outside.address} (the outside host) from a`,
          await lab.steadyFirewall(() => a.request(outside.address, 80, AFTER_CONTROL_SECONDS)),
        ).isNot("HTTP 404");
      }
      check(
        "the network is internal",
        derive(await lab.inspectNetwork(net), (f) => f.internal),
      ).is(true);
      if (since("25.0", "moby#46603: internal networks get no default route")) {
        check("a's default route", await a.defaultGateway()).is("none");
      }
      check(`a -> ${b.name}:80`, await a.request(b.name, 80)).is("HTTP 404");
      const gateway = check("the network's gateway", {
        value: net.gateway ?? "",
        how: `docker network inspect ${net.name}`,
      }).matches(IPV4_ADDRESS);
      check(
        `ping to the network's gateway ${gateway}`,
        derive(await a.ping(gateway), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "ISO-05",
    title: "With enable_icc=false, containers on one bridge cannot talk, yet stay reachable through published ports",
    area: "isolation",
    doc: "Bridge network driver › Options (com.docker.network.bridge.enable_icc)",
    requires: [needs.hostNetwork],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("noicc", { icc: false });
      const hostPort = await lab.hostPort();
      const b = await lab.probe("b").on(net).serving(80).publish(80, hostPort).start();
      const a = await lab.probe("a").on(net).start();
      const host = await lab.hostObserver();
      const ipB = check("b's address", await lab.addressOn(b, net)).matches(IPV4_ADDRESS);
      check(`control: ${ipB}:80 from the host`, await host.request(ipB, 80)).is("HTTP 404");
      const [ping, http] = await Promise.all([
        a.ping(ipB, "ipv4", { waitSeconds: AFTER_CONTROL_SECONDS }),
        a.request(ipB, 80, AFTER_CONTROL_SECONDS),
      ]);
      check(
        `ping ${ipB} on the same network`,
        derive(ping, (p) => p.outcome),
      ).isNot("reached");
      check(`${ipB}:80 on the same network`, http).isNot("HTTP 404");
      const hostAddress = check("the network's gateway (a host address)", await lab.gatewayOn(a, net)).matches(
        IPV4_ADDRESS,
      );
      check(`the published port through ${hostAddress}:${hostPort}`, await a.request(hostAddress, hostPort)).is(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "ISO-04",
    title:
      "Gateway mode isolated on an --internal network: the bridge has no address on the host, yet its containers reach each other by name",
    area: "isolation",
    doc: "Port publishing and mapping › Gateway modes (isolated); Engine 28.0 release notes",
    requires: [needs.hostNetwork, needs.engineAtLeast("28.0", "gateway_mode_ipv4=isolated arrived in Engine 28.0")],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("isolated", {
        internal: true,
        options: { "com.docker.network.bridge.gateway_mode_ipv4": "isolated" },
      });
      const [a, b] = await Promise.all([lab.probe("a").on(net).start(), lab.probe("b").on(net).serving(80).start()]);
      check(`a -> ${b.name}:80 by name`, await a.request(b.name, 80)).is("HTTP 404");
      const bridge = `br-${net.id.slice(0, 12)}`;
      check(
        `the addresses of ${bridge} on the engine's host`,
        await (await lab.hostObserver()).ipv4AddressesOf(bridge),
      ).is([]);
    },
  }),

  scenario({
    id: "ISO-06",
    title:
      "From a nat network into a routed one: ping and the published port on the container's address answer, an unpublished port does not; from the routed network back, nothing does",
    area: "isolation",
    doc: "Port publishing and mapping › Gateway modes (routed); Engine 27.0 release notes; moby TestBridgeINCRouted",
    requires: [needs.hostNetwork, needs.engineAtLeast("27.0", "gateway_mode_ipv4=routed arrived in Engine 27.0")],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const [nat, routed] = await Promise.all([
        lab.network("nat", { subnet: "pick" }),
        lab.network("routed", {
          subnet: "pick",
          options: { "com.docker.network.bridge.gateway_mode_ipv4": "routed" },
        }),
      ]);
      const port = await lab.hostPort();
      const [inNat, inRouted] = await Promise.all([
        lab.probe("in-nat").on(nat).serving(80).start(),
        lab.probe("in-routed").on(routed).serving(80).serving(81).publish(80, port).start(),
      ]);
      const natIp = check("in-nat's address", await lab.addressOn(inNat, nat)).matches(IPV4_ADDRESS);
      const routedIp = check("in-routed's address", await lab.addressOn(inRouted, routed)).matches(IPV4_ADDRESS);
      check(
        `ping ${routedIp} (routed) from the nat network`,
        derive(await inNat.ping(routedIp), (p) => p.outcome),
      ).is("reached");
      check(`${routedIp}:80 (published) from the nat network`, await inNat.request(routedIp, 80)).is("HTTP 404");
      check(
        `${routedIp}:81 (not published) from the nat network`,
        await lab.steadyFirewall(() => inNat.request(routedIp, 81, AFTER_CONTROL_SECONDS)),
      ).isNot("HTTP 404");
      // The way back: in-nat answers the engine's host, so silence from the routed network is the path's.
      check(`control: ${natIp}:80 from the engine's host`, await (await lab.hostObserver()).request(natIp, 80)).is(
        "HTTP 404",
      );
      const [back, pingBack] = await lab.steadyFirewall(() =>
        Promise.all([
          inRouted.request(natIp, 80, AFTER_CONTROL_SECONDS),
          inRouted.ping(natIp, "ipv4", { waitSeconds: AFTER_CONTROL_SECONDS }),
        ]),
      );
      check(`${natIp}:80 (nat) from the routed network`, back).isNot("HTTP 404");
      check(
        `ping ${natIp} (nat) from the routed network`,
        derive(pingBack, (p) => p.outcome),
      ).isNot("reached");
    },
  }),

  scenario({
    id: "ISO-07",
    title:
      "An --internal network still reaches the host's services on its bridge address, unless com.docker.network.bridge.inhibit_ipv4 leaves the bridge without one",
    area: "isolation",
    doc: "docker network create reference › --internal; Bridge network driver › Options (com.docker.network.bridge.inhibit_ipv4)",
    requires: [needs.hostNetwork],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      // A service of the engine's host, listening on every address.
      const host = await lab.probe("host-service").on(lab.hostNetwork).start();
      check(`httpd -p ${port} on the engine's host`, await host.serve(port)).is(true);
      const internal = await lab.network("internal", { internal: true });
      const a = await lab.probe("a").on(internal).start();
      // The network's, as inspect shows it: since 26.1 an internal network's endpoints name no gateway.
      const gateway = check(
        "the internal network's gateway",
        derive(await lab.inspectNetwork(internal), (f) => f.subnets[0]?.gateway ?? ""),
      ).matches(IPV4_ADDRESS);
      check(`${gateway}:${port} from the internal network`, await a.request(gateway, port)).is("HTTP 404");
      const inhibited = await lab.network("inhibited", {
        internal: true,
        options: { "com.docker.network.bridge.inhibit_ipv4": "true" },
      });
      const b = await lab.probe("b").on(inhibited).start();
      check(
        `the addresses of br-${inhibited.id.slice(0, 12)} on the engine's host`,
        await host.ipv4AddressesOf(`br-${inhibited.id.slice(0, 12)}`),
      ).is([]);
      // Engines before 28 still reserve a gateway address for the network (28 names none): it leads nowhere.
      const reserved = (await lab.inspectNetwork(inhibited)).value.subnets[0]?.gateway;
      if (reserved)
        check(`${reserved}:${port} from the inhibited network`, await b.request(reserved, port, 2)).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "ISO-08",
    title: "enable_icc=false blocks IP between containers, not ARP: each still learns the other's MAC",
    area: "isolation",
    doc: "Bridge network driver › Options (com.docker.network.bridge.enable_icc); moby#36355",
    requires: [needs.hostNetwork],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("noicc", { icc: false });
      const b = await lab.probe("b").on(net).serving(80).start();
      const a = await lab.probe("a").on(net).start();
      const ipB = check("b's address", await lab.addressOn(b, net)).matches(IPV4_ADDRESS);
      const host = await lab.hostObserver();
      check(`control: ${ipB}:80 from the host`, await host.request(ipB, 80)).is("HTTP 404");
      check(`${ipB}:80 from a, on the same network`, await a.request(ipB, 80, AFTER_CONTROL_SECONDS)).isNot("HTTP 404");
      const macB = derive(await lab.inspect(b), (f) => f.networks[net.name]?.mac ?? "");
      check(`arping ${ipB} from a`, await a.arpReply(ipB)).is(macB.value);
    },
  }),
];
