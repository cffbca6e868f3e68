import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { AFTER_CONTROL_SECONDS } from "../harness/lab/probe.js";
import { scenario } from "../harness/scenario.js";

const DOC = "Port publishing and mapping";

export default [
  scenario({
    id: "PP-01",
    title: "-p HOST:80 binds the host port on every IPv4 and IPv6 address, and releases it with the container",
    area: "publishing",
    doc: `${DOC} › Publishing ports`,
    requires: [needs.hostNetwork],
    brokenBy: "host-ports-taken",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      const web = await lab.probe("web").serving(80).publish(80, port).start();
      const host = await lab.hostObserver();
      check(
        "docker port web 80",
        derive(await lab.inspect(web), (f) => f.ports["80/tcp"] ?? []),
      ).is([`0.0.0.0:${port}`, `[::]:${port}`]);
      check(`localhost:${port} from the host`, await host.request("127.0.0.1", port)).is("HTTP 404");
      check("docker rm -f web", await lab.remove(web)).is("accepted");
      check(`localhost:${port} once the container is removed`, await host.request("127.0.0.1", port)).is("refused");
    },
  }),

  scenario({
    id: "PP-02",
    title: "-P publishes every exposed port on an ephemeral host port; exposed-only ports are listed unbound",
    area: "publishing",
    doc: `${DOC}; Legacy container links › Connect using network port mapping`,
    requires: [needs.hostNetwork],
    brokenBy: "publish-dropped",
    async run({ lab, check }) {
      const all = await lab.probe("all").serving(80).expose(80).expose(81).publishAllPorts().start();
      const ports = await lab.inspect(all);
      const hostPortOf = (binding: string | undefined) => Number(binding?.replace(/^.*:/, "") ?? 0);
      check(
        "host port published for 80/tcp",
        derive(ports, (f) => hostPortOf(f.ports["80/tcp"]?.[0])),
      ).satisfies("an ephemeral port (>= 1024)", (p) => p >= 1024);
      check(
        "host port published for 81/tcp",
        derive(ports, (f) => hostPortOf(f.ports["81/tcp"]?.[0])),
      ).satisfies("an ephemeral port (>= 1024)", (p) => p >= 1024);
      const host = await lab.hostObserver();
      const port80 = hostPortOf(ports.value.ports["80/tcp"]?.[0]);
      check(`localhost:${port80} (80/tcp) from the host`, await host.request("127.0.0.1", port80)).is("HTTP 404");
      const exposedOnly = await lab.probe("exposed").expose(82).start();
      check(
        "ports of a container that only exposes 82",
        derive(await lab.inspect(exposedOnly), (f) => f.ports),
      ).is({ "82/tcp": [] });
    },
  }),

  scenario({
    id: "PP-03",
    title: "A host port range hands out the next free port, refuses when full, and rejects inverted ranges",
    area: "publishing",
    doc: `${DOC}; Legacy container links (-p 9090-9092:80)`,
    brokenBy: "host-ports-taken",
    async run({ lab, check }) {
      const [first, , last] = await lab.hostPorts(3);
      const range = `${first}-${last}`;
      const bound: number[] = [];
      for (const name of ["r1", "r2", "r3"]) {
        const probe = await lab.probe(name).publish(80, range).start();
        const ports = await lab.inspect(probe);
        bound.push(Number(ports.value.ports["80/tcp"]?.[0]?.replace(/^.*:/, "") ?? 0));
        check(
          `${name}'s host port`,
          derive(ports, () => bound.at(-1)!),
        ).satisfies(`inside ${range}`, (p) => p >= first! && p <= last!);
      }
      check("host ports given to three containers", { value: new Set(bound).size, how: "docker port r1 r2 r3" }).is(3);
      const fourth = await lab.probe("r4").publish(80, range).attempt();
      check(
        "a fourth container on the full range",
        derive(fourth, (a) => a.started),
      ).is(false);
      const inverted = await lab.probe("inverted").publish(80, `${last}-${first}`).attempt();
      check(
        `-p ${last}-${first}:80`,
        derive(inverted, (a) => a.started),
      ).is(false);
    },
  }),

  scenario({
    id: "PP-04",
    title: "Publishing a host port already in use fails, and the container stays created",
    area: "publishing",
    doc: `${DOC}; moby TestPublishedPortAlreadyInUse`,
    brokenBy: "publish-dropped",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      await lab.probe("first").publish(80, port).start();
      const second = await lab.probe("second").publish(80, port).attempt();
      check(
        "starting a second container on the same host port",
        derive(second, (a) => a.started),
      ).is(false);
      check(
        "the engine's reason",
        derive(second, (a) => a.message),
      ).matches(/already allocated|address already in use/i);
      check(
        "the second container's state",
        derive(second, (a) => a.state ?? "gone"),
      ).is("created");
    },
  }),

  scenario({
    id: "PP-05",
    title: "-p 127.0.0.1:HOST:80 answers on the host only, never from outside; -p HOST:80 answers from outside",
    area: "publishing",
    doc: `${DOC} (publishing to localhost only)`,
    requires: [needs.hostNetwork, needs.outsideHost],
    brokenBy: "publish-host-ip-ignored",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const [local, everywhere] = await lab.hostPorts(2);
      await lab.probe("local").serving(80).publish(80, local!, "127.0.0.1").start();
      await lab.probe("everywhere").serving(80).publish(80, everywhere!).start();
      const host = await lab.hostObserver();
      const outside = lab.outside.host();
      check(
        `control: ${outsideHost.engineAddress}:${everywhere} (published on all addresses) from outside`,
        await outside.request(outsideHost.engineAddress, everywhere!),
      ).is("HTTP 404");
      check(`127.0.0.1:${local} from the host`, await host.request("127.0.0.1", local!)).is("HTTP 404");
      check(
        `${outsideHost.engineAddress}:${local} (published on 127.0.0.1) from outside`,
        await outside.request(outsideHost.engineAddress, local!, 2),
      ).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "PP-06",
    title: "-p HOST:53/udp publishes UDP: a container on another network reaches the server through a host address",
    area: "publishing",
    doc: `${DOC} › Publishing ports (-p 53:53/udp)`,
    // The UDP server is docknet's stub DNS, run in the container's network namespace (busybox has no UDP server).
    requires: [needs.engineHost],
    brokenBy: "publish-dropped",
    async run({ lab, check }) {
      const [serverNet, clientNet] = [await lab.network("server"), await lab.network("client")];
      const port = await lab.hostPort();
      const server = await lab.probe("dns").on(serverNet).publish("53/udp", port).start();
      await lab.dns.serverIn(server, serverNet, { "foobar.internal": "10.213.254.8" });
      check(
        "docker port dns 53/udp",
        derive(await lab.inspect(server), (f) => f.ports["53/udp"] ?? []),
      ).includes(`0.0.0.0:${port}`);
      const client = await lab.probe("client").on(clientNet).start();
      // The client's gateway is the engine host's own address on the client's network.
      const hostAddress = check("the host's address on the client's network", await client.defaultGateway()).matches(
        IPV4_ADDRESS,
      );
      check(
        `nslookup foobar.internal ${hostAddress}:${port}`,
        derive(await client.resolve("foobar.internal", `${hostAddress}:${port}`), (a) => a.addresses),
      ).is(["10.213.254.8"]);
    },
  }),

  scenario({
    id: "PP-07",
    title: "Hairpin: a published port is reachable through a host address from another network and from itself",
    area: "publishing",
    doc: `${DOC}; moby TestAccessPublishedPortFromCtr`,
    brokenBy: "servers-down",
    async run({ lab, check }) {
      const netA = await lab.network("a");
      const netB = await lab.network("b");
      const port = await lab.hostPort();
      const b = await lab.probe("b").on(netB).serving(80).publish(80, port).start();
      const a = await lab.probe("a").on(netA).start();
      const viaA = check("network A's gateway (a host address)", await lab.gatewayOn(a, netA)).matches(IPV4_ADDRESS);
      const viaB = check("network B's gateway (a host address)", await lab.gatewayOn(b, netB)).matches(IPV4_ADDRESS);
      check(`network A -> host address ${viaA}:${port}`, await a.request(viaA, port)).is("HTTP 404");
      check(`b -> its own published port via ${viaB}:${port}`, await b.request(viaB, port)).is("HTTP 404");
    },
  }),

  scenario({
    id: "PP-09",
    title: "With the userland proxy (the default), a port published from an IPv4-only network also answers on [::1]",
    area: "publishing",
    doc: `${DOC}; moby TestProxy4To6, TestAccessPublishedPortFromHost`,
    requires: [needs.hostNetwork, needs.userlandProxy],
    brokenBy: "publish-dropped",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      await lab.probe("web").serving(80).publish(80, port).start();
      const host = await lab.hostObserver();
      check(
        `[::1]:${port} from the host (docker-proxy, IPv6 to the container's IPv4)`,
        await host.request("::1", port),
      ).is("HTTP 404");
    },
  }),

  scenario({
    id: "PP-10",
    title:
      "com.docker.network.bridge.host_binding_ipv4 is the network's default address for -p: ports publish there, not on 0.0.0.0",
    area: "publishing",
    doc: "Bridge network driver › Options (com.docker.network.bridge.host_binding_ipv4)",
    requires: [needs.hostNetwork],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("bound", {
        options: { "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1" },
      });
      const port = await lab.hostPort();
      const web = await lab.probe("web").on(net).serving(80).publish(80, port).start();
      const bindings = await lab.inspect(web);
      check(
        "docker port web 80/tcp",
        derive(bindings, (f) => f.ports["80/tcp"] ?? []),
      ).includes(`127.0.0.1:${port}`);
      check(
        "bindings of 80/tcp on every IPv4 address",
        derive(bindings, (f) => (f.ports["80/tcp"] ?? []).filter((b) => b.startsWith("0.0.0.0:"))),
      ).is([]);
      check(`127.0.0.1:${port} from the engine's host`, await (await lab.hostObserver()).request("127.0.0.1", port)).is(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "PP-11",
    title:
      "Gateway mode routed: no NAT; a neighbour routing to the container reaches its published port on the container's own address, and no other",
    area: "publishing",
    doc: `${DOC} › Gateway modes (routed); Engine 27.0 release notes (gateway_mode_ipv4)`,
    requires: [needs.routeToContainers, needs.engineAtLeast("27.0", "gateway_mode_ipv4=routed arrived in Engine 27.0")],
    brokenBy: "network-options-ignored",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      // The outside host routes docknet's lab subnets (10.213.0.0/16) to the engine's host, as a LAN router might.
      const net = await lab.network("routed", {
        subnet: "pick",
        options: { "com.docker.network.bridge.gateway_mode_ipv4": "routed" },
      });
      const port = await lab.hostPort();
      const web = await lab.probe("web").on(net).serving(80).serving(81).publish(80, port).start();
      const ip = check("web's address", await lab.addressOn(web, net)).matches(IPV4_ADDRESS);
      const outside = lab.outside.host();
      check(`${ip}:80 (published) straight at the container from the outside host`, await outside.request(ip, 80)).is(
        "HTTP 404",
      );
      check(
        `${ip}:81 (not published) from the outside host`,
        await outside.request(ip, 81, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
      check(
        "the source the outside host saw from web (no masquerading)",
        await web.fetch(outsideHost.address, 80, outsideHost.sourcePath),
      ).is(ip);
    },
  }),

  scenario({
    id: "PP-12",
    title:
      "From 28.0 a neighbour routing straight to a nat-mode container is dropped, unless the network trusts the interface it comes in on",
    area: "publishing",
    doc: `${DOC} › Direct routing (com.docker.network.bridge.trusted_host_interfaces); Engine 28.0 release notes`,
    requires: [
      needs.routeToContainers,
      needs.engineAtLeast("28.0", "the raw PREROUTING drop and trusted_host_interfaces arrived in Engine 28.0"),
    ],
    brokenBy: "network-options-ignored",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const [nat, trusted] = await Promise.all([
        lab.network("nat", { subnet: "pick" }),
        lab.network("trusted", {
          subnet: "pick",
          options: { "com.docker.network.bridge.trusted_host_interfaces": outsideHost.engineInterface },
        }),
      ]);
      const [natPort, trustedPort] = await lab.hostPorts(2);
      const [a, b] = await Promise.all([
        lab.probe("a").on(nat).serving(80).publish(80, natPort!).start(),
        lab.probe("b").on(trusted).serving(80).publish(80, trustedPort!).start(),
      ]);
      const ipA = check("a's address", await lab.addressOn(a, nat)).matches(IPV4_ADDRESS);
      const ipB = check("b's address", await lab.addressOn(b, trusted)).matches(IPV4_ADDRESS);
      const outside = lab.outside.host();
      check(
        `control: ${outsideHost.engineAddress}:${natPort} (a's published port on the host) from the outside host`,
        await outside.request(outsideHost.engineAddress, natPort!),
      ).is("HTTP 404");
      check(
        `${ipA}:80 straight at a nat-mode container from the outside host`,
        await outside.request(ipA, 80, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
      check(
        `${ipB}:80 straight at a container whose network trusts ${outsideHost.engineInterface}`,
        await outside.request(ipB, 80),
      ).is("HTTP 404");
    },
  }),

  scenario({
    id: "PP-13",
    title:
      "A container with a restart policy gets its published port back after a daemon restart: a host-gateway client reaches it again",
    area: "publishing",
    doc: `${DOC}; Start containers automatically (restart policies); moby TestPortMappingRestore, TestDaemonRestartWithRunningContainersPorts`,
    // The restart would stop every other scenario's containers: it gets an engine of its own.
    ownEngine: true,
    exclusive: true,
    requires: [needs.engineNamespace, needs.engineAtLeast("20.10", "host-gateway arrived in 20.10")],
    brokenBy: "restart-policy-dropped",
    async run({ lab, check, engine }) {
      const port = await lab.hostPort();
      const web = await lab.probe("web").serving(80).publish(80, port).restartPolicy("always").start();
      const client = (short: string) => lab.probe(short).addHost("thehost", "host-gateway").start();
      const before = await client("before");
      check(
        `control: thehost:${port} (host-gateway, web's published port) before the restart`,
        await before.request("thehost", port),
      ).is("HTTP 404");
      check("restart dockerd", await lab.restartEngine({ ...engine.daemonConfig })).is("accepted");
      check(
        "web's state after the restart",
        await lab.eventually(
          async () => derive(await lab.inspect(web), (f) => f.state),
          (state) => state === "running",
        ),
      ).is("running");
      check(
        "web's port bindings after the restart",
        derive(await lab.inspect(web), (f) => f.ports["80/tcp"] ?? []),
      ).satisfies(`a binding of host port ${port}`, (bindings) => bindings.some((b) => b.endsWith(`:${port}`)));
      const after = await client("after");
      check(
        `thehost:${port} from a new host-gateway client after the restart`,
        await lab.eventually(
          () => after.request("thehost", port),
          (answer) => answer === "HTTP 404",
        ),
      ).is("HTTP 404");
    },
  }),

  scenario({
    id: "PP-14",
    title:
      "-p ADDRESS:HOST:80 binds an address, not an interface: a machine on another network of the host reaches it through that network's interface, while the host's address there does not answer",
    area: "publishing",
    doc: `${DOC} › Publishing ports (-p 192.168.1.100:8080:80); Publishing ports › Binding to specific network interfaces (docker/docs#22511: an address is not an interface)`,
    requires: [needs.docknetLan],
    brokenBy: "publish-host-ip-ignored",
    async run({ lab, check, engine }) {
      const { engineAddress } = engine.outsideHost!;
      const port = await lab.hostPort();
      await lab.probe("web").serving(80).publish(80, port, engineAddress).start();
      const outside = lab.outside.host();
      check(
        `control: ${engineAddress}:${port} from the outside host, over the host's interface that holds ${engineAddress}`,
        await outside.request(engineAddress, port),
      ).is("HTTP 404");
      // A second network between the host and the outside host, the host at .2 on it.
      const link = await lab.outside.link();
      const hostAddress = link.subnet.replace(/0\/24$/, "2");
      check(
        `ip addr add ${hostAddress}/24 dev ${link.parent}`,
        await lab.host.addAddress(link.parent, `${hostAddress}/24`),
      ).is(0);
      check(
        `the outside host's way to ${engineAddress}:${port}, sent to ${hostAddress} on the second network`,
        await lab.outside.detour(link, engineAddress, port, hostAddress),
      ).is(link.outsideInterface);
      check(
        `${engineAddress}:${port} from the outside host, arriving on ${link.parent}`,
        await outside.request(engineAddress, port),
      ).is("HTTP 404");
      check(
        `${hostAddress}:${port} (the host's own address on that network) from the outside host`,
        await outside.request(hostAddress, port, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "PP-15",
    title:
      "--bridge-accept-fwmark: a packet the host marks gets past the drop of direct routing to a nat-mode container; an unmarked one still does not",
    area: "publishing",
    doc: `${DOC} › Direct routing; dockerd --bridge-accept-fwmark; Engine 29.0 release notes (moby#50476)`,
    daemon: { "bridge-accept-fwmark": "0x1d" },
    requires: [
      needs.routeToContainers,
      needs.engineNamespace,
      needs.engineAtLeast("29.0", "--bridge-accept-fwmark arrived in Engine 29.0"),
    ],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const net = await lab.network("nat", { subnet: "pick" });
      const port = await lab.hostPort();
      const [a, b] = await Promise.all([
        lab.probe("a").on(net).serving(80).publish(80, port).start(),
        lab.probe("b").on(net).serving(80).start(),
      ]);
      const ipA = check("a's address", await lab.addressOn(a, net)).matches(IPV4_ADDRESS);
      const ipB = check("b's address", await lab.addressOn(b, net)).matches(IPV4_ADDRESS);
      const outside = lab.outside.host();
      check(
        `control: ${outsideHost.engineAddress}:${port} (a's published port on the host) from the outside host`,
        await outside.request(outsideHost.engineAddress, port),
      ).is("HTTP 404");
      check(
        `${ipA}:80 straight at a from the outside host, unmarked`,
        await outside.request(ipA, 80, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
      const mark = [
        "-i",
        outsideHost.engineInterface,
        "-d",
        `${ipA}/32`,
        "-p",
        "tcp",
        "-j",
        "MARK",
        "--set-mark",
        "0x1d",
      ];
      check(
        `mark what comes in on ${outsideHost.engineInterface} for ${ipA} (mangle PREROUTING)`,
        await lab.host.addFirewallRule("PREROUTING", mark, { table: "mangle" }),
      ).is("accepted");
      check(`${ipA}:80 straight at a from the outside host, marked 0x1d`, await outside.request(ipA, 80)).is(
        "HTTP 404",
      );
      check(
        `${ipB}:80 straight at b from the outside host, unmarked`,
        await outside.request(ipB, 80, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
    },
  }),
];
