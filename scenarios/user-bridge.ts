import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";
import { userBridgePair } from "./topologies.js";

const DOC = "Bridge network driver › Differences between user-defined bridges and the default bridge";

export default [
  scenario({
    id: "UB-01",
    title: "Containers on one user-defined bridge reach each other on every port, with nothing published",
    area: "user-bridge",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: DOC,
    brokenBy: "user-networks-icc-off",
    async run({ lab, check }) {
      const { db, client: web } = await lab.shared(userBridgePair);
      check(
        "ports the database publishes",
        derive(await lab.inspect(db), (f) => Object.values(f.ports).flat()),
      ).is([]);
      check(`web -> ${db.name}:5432`, await web.connect(db.name, 5432)).is("open");
      check(`web -> ${db.name}:6379`, await web.connect(db.name, 6379)).is("open");
      check(
        `ping from web to ${db.name}`,
        derive(await web.ping(db.name), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "UB-03",
    title: "A user-defined network cannot be removed while containers are attached",
    area: "user-bridge",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: "Bridge network driver › Manage a user-defined bridge",
    brokenBy: "detach-after-start",
    async run({ lab, check }) {
      const net = await lab.network("busy");
      const member = await lab.probe("member").on(net).start();
      const refused = await lab.removeNetwork(net);
      check("docker network rm with a container attached", refused).isNot("accepted");
      check("the engine's reason", refused).matches(/active endpoints|in use/i);
      check("docker rm -f member", await lab.remove(member)).is("accepted");
      check("docker network rm once the container is gone", await lab.removeNetwork(net)).is("accepted");
    },
  }),

  scenario({
    id: "UB-02",
    title:
      "Each user-defined bridge is a Linux bridge on the host named br-<the network ID's first 12 characters>, holding the gateway its containers route through",
    area: "user-bridge",
    doc: "Bridge network driver › Options (com.docker.network.bridge.name: the default is br-<network ID>)",
    requires: [needs.hostNetwork],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check }) {
      const { net, client: c } = await lab.shared(userBridgePair);
      const gateway = check("the container's default gateway", await c.defaultGateway()).matches(IPV4_ADDRESS);
      const bridge = `br-${net.id.slice(0, 12)}`;
      check(
        `the addresses of ${bridge} on the engine's host`,
        await (await lab.hostObserver()).ipv4AddressesOf(bridge),
      ).includes(gateway);
    },
  }),

  scenario({
    id: "UB-06",
    title:
      "A container's non-root user may bind ports below 1024, and every group may ping: Docker sets ip_unprivileged_port_start=0 and ping_group_range",
    area: "user-bridge",
    doc: "Docker Engine 20.10 release notes (moby#41030: default sysctls for unprivileged ports and ping); moby TestUnprivilegedPortsAndPing",
    brokenBy: "unprivileged-defaults-reset",
    async run({ lab, check, differs }) {
      const noPing = differs(
        "rootless",
        "ping_group_range is not widened: the container's groups are not the host's, so ping needs net.ipv4.ping_group_range set on the host",
        "Rootless mode › Troubleshooting › Ping doesn't work",
      );
      const net = await lab.network("app");
      const server = await lab.probe("server").on(net).start();
      const client = await lab.probe("client").on(net).start();
      check(
        "net.ipv4.ip_unprivileged_port_start in the container",
        await server.sysctl("net.ipv4.ip_unprivileged_port_start"),
      ).is("0");
      check(
        "httpd -p 80 as uid 1000 (exit code)",
        await server.exitCodeAs("1000:1000", ["httpd", "-p", "80", "-h", "/www"]),
      ).is(0);
      check(`client -> ${server.name}:80`, await client.connect(server.name, 80)).is("open");
      // busybox's ping opens raw sockets only, so the ping side is read where the kernel keeps it: every
      // group may open ICMP datagram sockets (what iputils' ping uses without privileges).
      const pingGroups = check(
        "net.ipv4.ping_group_range in the container",
        derive(await server.sysctl("net.ipv4.ping_group_range"), (range) => range.split(/\s+/).join(" ")),
      );
      if (noPing) pingGroups.isNot("0 2147483647");
      else pingGroups.is("0 2147483647");
    },
  }),

  scenario({
    id: "UB-04",
    title:
      "With several networks, the endpoint with the highest gw-priority gives the default route; a later connect takes it only with a higher one",
    area: "user-bridge",
    doc: "Networking overview › Connecting to multiple networks (--gw-priority); moby TestConnectWithPriority",
    requires: [needs.engineAtLeast("28.0", "gw-priority arrived in Engine 28.0, API 1.48")],
    brokenBy: "gw-priority-ignored",
    async run({ lab, check }) {
      const [a, b, c] = await Promise.all([lab.network("a"), lab.network("b"), lab.network("c")]);
      // The control: the engine's own choice between a and b; the priority then goes to the other one.
      const plain = await lab.probe("plain").on(a).on(b).start();
      const gateway = async (probe: typeof plain, net: typeof a) => (await lab.gatewayOn(probe, net)).value;
      const chosen = check(
        "control: the default gateway on a and b, no priority",
        await plain.defaultGateway(),
      ).isOneOf([await gateway(plain, a), await gateway(plain, b)]);
      const [preferred, other] = chosen === (await gateway(plain, a)) ? [b, a] : [a, b];
      const box = await lab.probe("box").on(other).on(preferred, { gwPriority: 1 }).start();
      const wanted = await gateway(box, preferred);
      check(`the default gateway with gw-priority 1 on ${preferred.name}`, await box.defaultGateway()).is(wanted);
      check(
        `docker network connect --gw-priority 1 ${c.name} (equal)`,
        await lab.connect(box, c, { gwPriority: 1 }),
      ).is("accepted");
      check("the default gateway after an equal priority joined", await box.defaultGateway()).is(wanted);
      check("docker network disconnect", await lab.disconnect(box, c)).is("accepted");
      check(
        `docker network connect --gw-priority 2 ${c.name} (higher)`,
        await lab.connect(box, c, { gwPriority: 2 }),
      ).is("accepted");
      check("the default gateway after a higher priority joined", await box.defaultGateway()).is(await gateway(box, c));
    },
  }),

  scenario({
    id: "UB-05",
    title:
      "A container that restarts with the same address and a new MAC announces it (gratuitous ARP): its peers' neighbour tables hold the new MAC before they send anything",
    area: "user-bridge",
    doc: "Docker Engine 28.0 release notes (random MAC addresses; unsolicited ARP and NA when an endpoint joins, com.docker.network.advertise_addr_nmsgs); moby TestAdvertiseAddresses",
    requires: [
      needs.engineAtLeast("28.0", "until 28.0 a MAC was derived from the IPv4 address, and no address was advertised"),
    ],
    brokenBy: "addresses-not-advertised",
    async run({ lab, check }) {
      const net = await lab.network("garp", { subnet: "pick" });
      const address = (net.subnet ?? "").replace(/\.0\/24$/, ".50");
      const mover = await lab.probe("mover").on(net, { ip: address }).start();
      const peer = await lab.probe("peer").on(net).start();
      const macOn = async () => (await lab.inspect(mover)).value.networks[net.name]?.mac ?? "";
      const before = await macOn();
      check(
        `ping from peer to ${address}`,
        derive(await peer.ping(address), (p) => p.outcome),
      ).is("reached");
      check(`peer's neighbour entry for ${address} (the control)`, await peer.neighbourMac(address)).is(before);
      check("docker stop", await lab.stop(mover)).is("accepted");
      check("docker start", await lab.start(mover)).is("accepted");
      const after = check(
        "mover's MAC after the restart",
        derive(await lab.inspect(mover), (f) => f.networks[net.name]?.mac ?? ""),
      ).satisfies(`a MAC other than ${before}`, (mac) => mac !== "" && mac !== before);
      // Read (for up to 3 s: the engine sends its announcements once the endpoint joins) with nothing
      // sent by peer: only an announcement can have changed the entry.
      check(
        `peer's neighbour entry for ${address}, read before peer sends anything`,
        await lab.eventually(
          () => peer.neighbourMac(address),
          (mac) => mac === after,
          3_000,
        ),
      ).is(after);
    },
  }),
];
