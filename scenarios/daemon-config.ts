import { needs } from "../harness/capabilities.js";
import { inSubnet, ipv4InSubnet, splitSubnet } from "../harness/cidr.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";

/**
 * Behaviour that needs the daemon started with a setting. Each scenario names
 * its daemon.json; `docknet run` starts a throwaway private engine with it
 * (never touching the user's engine). Addresses stay inside docknet's
 * 10.213.0.0/16 so that no daemon setting can collide with a real network.
 */
const DOC = "Bridge network driver › Configure the default bridge network";

export default [
  scenario({
    id: "DC-01",
    title: "bip sets the default bridge's subnet and gateway, and no container gets the bip address",
    area: "daemon-config",
    doc: `${DOC} (bip); moby TestBridgeIPIsExcludedFromAllocatorPool`,
    daemon: { bip: "10.213.176.88/24" },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const bridge = await lab.inspectNetwork(lab.defaultBridge);
      check(
        "the default bridge's subnet",
        derive(bridge, (b) => b.subnets.map((s) => s.subnet)),
      ).is(["10.213.176.0/24"]);
      const containers = await Promise.all([lab.probe("a").start(), lab.probe("b").start()]);
      for (const c of containers) {
        check(`${c.name}'s gateway`, await lab.gatewayOn(c, lab.defaultBridge)).is("10.213.176.88");
        check(`${c.name}'s address`, await lab.addressOn(c, lab.defaultBridge)).satisfies(
          "inside 10.213.176.0/24 and not the bip address",
          (ip) => ipv4InSubnet(ip, "10.213.176.0/24") && ip !== "10.213.176.88",
        );
      }
    },
  }),

  scenario({
    id: "DC-02",
    title: "fixed-cidr limits default-bridge addresses to a range inside bip",
    area: "daemon-config",
    doc: `${DOC} (fixed-cidr); moby TestDaemonDefaultBridgeWithFixedCidrButNoBip`,
    daemon: { bip: "10.213.177.1/24", "fixed-cidr": "10.213.177.128/25" },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const bridge = await lab.inspectNetwork(lab.defaultBridge);
      check(
        "the default bridge's address range",
        derive(bridge, (b) => b.subnets.map((s) => s.ipRange ?? "")),
      ).is(["10.213.177.128/25"]);
      const c = await lab.probe("c").start();
      check("the container's address", await lab.addressOn(c, lab.defaultBridge)).satisfies(
        "inside 10.213.177.128/25",
        (ip) => ipv4InSubnet(ip, "10.213.177.128/25"),
      );
    },
  }),

  scenario({
    id: "DC-03",
    title: "default-address-pools: new networks take the pool's subnets in order, and bip is kept",
    area: "daemon-config",
    doc: "Networking overview › Subnet allocation (default-address-pools); moby TestDaemonWithBipAndDefaultNetworkPool",
    daemon: { bip: "10.213.179.1/24", "default-address-pools": [{ base: "10.213.180.0/22", size: 24 }] },
    exclusive: true,
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const bridge = await lab.inspectNetwork(lab.defaultBridge);
      check(
        "the default bridge's subnet (bip)",
        derive(bridge, (b) => b.subnets.map((s) => s.subnet)),
      ).is(["10.213.179.0/24"]);
      const first = await lab.network("first");
      const second = await lab.network("second");
      // The pool's /24s in order. A fresh engine starts at its first; an engine that gave subnets out
      // before (a --repeat attempt) goes on from where it was, so the claim is "the pool, in order".
      const pool = splitSubnet("10.213.180.0/22", 24);
      const firstSubnet = check(
        "the first new network's subnet",
        derive(await lab.inspectNetwork(first), (n) => n.subnets.map((s) => s.subnet)),
      ).satisfies(`one /24 of the pool 10.213.180.0/22`, (s) => s.length === 1 && pool.includes(s[0]!))[0]!;
      const next = pool[(pool.indexOf(firstSubnet) + 1) % pool.length]!;
      check(
        "the second new network's subnet",
        derive(await lab.inspectNetwork(second), (n) => n.subnets.map((s) => s.subnet)),
      ).is([next]);
    },
  }),

  scenario({
    id: "DC-04",
    title: "mtu sets default-bridge containers' MTU, and default-gateway their default route",
    area: "daemon-config",
    doc: `${DOC} (mtu, default-gateway)`,
    daemon: { bip: "10.213.178.1/24", mtu: 1400, "default-gateway": "10.213.178.254" },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const c = await lab.probe("c").start();
      check(
        "eth0's MTU",
        derive(await c.interfaces(), (all) => all.find((i) => i.name === "eth0")?.mtu ?? 0),
      ).is(1400);
      check("the default route's gateway", await c.defaultGateway()).is("10.213.178.254");
    },
  }),

  scenario({
    id: "DC-05",
    title: "ip makes -p HOST:PORT on the default bridge bind that address only",
    area: "daemon-config",
    doc: "Port publishing and mapping › Setting the default bind address for containers",
    daemon: { ip: "127.0.0.1" },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      const c = await lab.probe("web").serving(80).publish(80, port).start();
      check(
        "the bindings of -p " + port + ":80",
        derive(await lab.inspect(c), (f) => f.ports["80/tcp"] ?? []),
      ).is([`127.0.0.1:${port}`]);
    },
  }),

  scenario({
    id: "DC-06",
    title: "icc=false: containers on the default bridge cannot reach each other, while a user network still works",
    area: "daemon-config",
    doc: `${DOC} (icc); moby TestLegacyLink`,
    daemon: { icc: false },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const app = await lab.network("app");
      const peer = await lab.probe("peer").on(app).serving(8080).start();
      const friend = await lab.probe("friend").on(app).start();
      check(`control: HTTP from friend to peer on a user network`, await friend.request(peer.name, 8080)).is(
        "HTTP 404",
      );
      const server = await lab.probe("server").serving(8080).start();
      const client = await lab.probe("client").start();
      const ip = check("the server's default-bridge address", await lab.addressOn(server, lab.defaultBridge)).matches(
        IPV4_ADDRESS,
      );
      check(`HTTP from client to ${ip}:8080 on the default bridge`, await client.request(ip, 8080, 2)).isNot(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "LK-04",
    title:
      "With icc=false, a linked container reaches its server's exposed port by address, name and alias; an unlinked one does not",
    area: "daemon-config",
    doc: "Legacy container links › Communication across links; moby TestLegacyLink",
    daemon: { icc: false },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      // Under icc=false a link opens only the ports the server exposes.
      const server = await lab.probe("server").serving(80).expose(80).start();
      const ip = check("the server's address", await lab.addressOn(server, lab.defaultBridge)).matches(IPV4_ADDRESS);
      const linked = await lab.probe("linked").link(server, "svr").start();
      for (const target of [ip, server.name, "svr"])
        check(`HTTP from the linked container to ${target}`, await linked.request(target, 80)).is("HTTP 404");
      const stranger = await lab.probe("stranger").start();
      check(`HTTP from an unlinked container to ${ip}`, await stranger.request(ip, 80, 2)).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "LK-05",
    title:
      "docker rm --link removes a link while both containers run: the alias leaves /etc/hosts and, under icc=false, the address stops answering",
    area: "daemon-config",
    doc: "Legacy container links; docker rm reference (--link); moby TestRemoveLegacyLink",
    daemon: { icc: false },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const server = await lab.probe("server").serving(80).expose(80).start();
      const ip = check("the server's address", await lab.addressOn(server, lab.defaultBridge)).matches(IPV4_ADDRESS);
      const client = await lab.probe("client").link(server, "svr").start();
      check(`control: HTTP from the client to ${ip} through the link`, await client.request(ip, 80)).is("HTTP 404");
      check("docker rm --link client/svr", await lab.removeLink(client, "svr")).is("accepted");
      check("svr in the client's /etc/hosts", await client.hostsAddressesOf("svr")).is([]);
      for (const c of [server, client])
        check(
          `${c.name}'s state`,
          derive(await lab.inspect(c), (f) => f.state),
        ).is("running");
      check(`HTTP from the client to ${ip} after the link is gone`, await client.request(ip, 80, 2)).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "DC-07",
    title:
      "With live-restore, a daemon restarted with new default-address-pools keeps docker0's subnet and its running containers",
    area: "daemon-config",
    doc: "Live restore; Networking overview › Subnet allocation; moby TestDaemonRestartWithLiveRestore",
    daemon: { "live-restore": true },
    exclusive: true,
    requires: [needs.defaultBridge, needs.engineNamespace],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check, engine }) {
      const subnets = async () =>
        derive(await lab.inspectNetwork(lab.defaultBridge), (b) => b.subnets.map((s) => s.subnet));
      const before = check("the default bridge's subnet before the restart", await subnets()).satisfies(
        "one subnet",
        (s) => s.length === 1,
      );
      const c = await lab.probe("c").serving(80).start();
      const ip = check("c's address", await lab.addressOn(c, lab.defaultBridge)).matches(IPV4_ADDRESS);
      const pools = [{ base: "10.213.190.0/23", size: 24 }];
      check(
        "restart dockerd with new default-address-pools",
        await lab.restartEngine({ ...engine.daemonConfig, "default-address-pools": pools }),
      ).is("accepted");
      check(
        "c's state after the restart",
        derive(await lab.inspect(c), (f) => f.state),
      ).is("running");
      check("the default bridge's subnet after the restart", await subnets()).is(before);
      check("c's address after the restart", await lab.addressOn(c, lab.defaultBridge)).is(ip);
      const peer = await lab.probe("peer").start();
      check(`HTTP from a new container to c at ${ip}`, await peer.request(ip, 80)).is("HTTP 404");
      const fresh = await lab.network("fresh");
      check(
        "a new network's subnet",
        derive(await lab.inspectNetwork(fresh), (n) => n.subnets.map((s) => s.subnet)),
      ).satisfies(
        "inside the new pool 10.213.190.0/23",
        (s) => s.length === 1 && ipv4InSubnet(s[0]!, "10.213.190.0/23"),
      );
    },
  }),

  scenario({
    id: "DC-08",
    title: "dns sets the nameservers of default-bridge containers",
    area: "daemon-config",
    doc: `${DOC} (dns); Networking overview › DNS services`,
    daemon: { dns: ["10.213.255.53", "10.213.255.54"] },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const c = await lab.probe("c").start();
      check(
        "nameservers in /etc/resolv.conf",
        derive(await c.resolvConf(), (r) => r.nameservers),
      ).is(["10.213.255.53", "10.213.255.54"]);
    },
  }),

  scenario({
    id: "NONE-02",
    title: "bridge=none: there is no default bridge, and a container started without --network has only loopback",
    area: "daemon-config",
    doc: "Networking overview › Network drivers; dockerd reference (--bridge none); moby TestDaemonBridgeNone",
    daemon: { bridge: "none" },
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const networks = await lab.engineNetworks();
      check(
        "the engine's networks",
        derive(networks, (names) => names.includes("bridge")),
      ).is(false);
      const c = await lab.probe("c").start();
      check("interfaces of a container run without --network", await c.interfaceNames()).is(["lo"]);
    },
  }),

  scenario({
    id: "V6-03",
    title:
      "ipv6 with fixed-cidr-v6 gives default-bridge containers an address in that prefix and the configured IPv6 gateway",
    area: "daemon-config",
    doc: "Use IPv6 networking › Use IPv6 for the default bridge network; moby TestDaemonIPv6FixedCIDR",
    daemon: { ipv6: true, "fixed-cidr-v6": "fd0d:dc03::/64", "default-gateway-v6": "fd0d:dc03::ff" },
    requires: [needs.defaultBridge],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const c = await lab.probe("c").start();
      const eth0 = derive(await c.interfaces(), (all) =>
        (all.find((i) => i.name === "eth0")?.ipv6 ?? []).filter((a) => !a.startsWith("fe80")),
      );
      check("eth0's global IPv6 addresses", eth0).satisfies(
        "one address in fd0d:dc03::/64",
        (a) => a.length === 1 && inSubnet(a[0]!, "fd0d:dc03::/64"),
      );
      check(
        "the IPv6 default route's gateway",
        derive(await c.routes("ipv6"), (routes) => routes.find((r) => r.destination === "default")?.via ?? ""),
      ).is("fd0d:dc03::ff");
    },
  }),

  scenario({
    id: "FW-01",
    title: "Starting with forwarding off, the daemon turns net.ipv4.ip_forward on and sets the FORWARD policy to DROP",
    area: "daemon-config",
    doc: "Packet filtering and firewalls › Docker on a router; moby TestFilterForwardPolicy",
    requires: [needs.engineNamespace],
    brokenBy: { daemonConfig: { "ip-forward": false } },
    async run({ lab, check }) {
      // docknet's private engines start in a fresh namespace, where forwarding is off.
      check("net.ipv4.ip_forward in the engine's namespace", await lab.host.sysctl("net.ipv4.ip_forward")).is("1");
      check(
        "the filter table's FORWARD policy",
        derive(await lab.host.firewall("filter"), (t) => t.policies.get("FORWARD") ?? ""),
      ).is("DROP");
    },
  }),

  scenario({
    id: "FW-07",
    title: "iptables=false: Docker adds no chains, and containers' traffic leaves unmasqueraded",
    area: "daemon-config",
    doc: "Packet filtering and firewalls › Prevent Docker from manipulating firewall rules",
    // A bip inside docknet's range: the outside host routes only 10.213.0.0/16 back.
    daemon: { iptables: false, bip: "10.213.175.1/24" },
    requires: [needs.engineNamespace, needs.outsideHost],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check, engine }) {
      const filter = await lab.host.firewall("filter");
      check(
        "filter chains named DOCKER*",
        derive(filter, (t) => [...t.chains].filter((c) => c.startsWith("DOCKER"))),
      ).is([]);
      check(
        "nat rules that masquerade",
        derive(await lab.host.firewall("nat"), (t) => t.rules.filter((r) => r.includes("MASQUERADE"))),
      ).is([]);
      const outside = engine.outsideHost!;
      const c = await lab.probe("c").start();
      const own = check("the container's address", await lab.addressOn(c, lab.defaultBridge)).matches(IPV4_ADDRESS);
      check("the source the outside host saw", await c.fetch(outside.address, 80, outside.sourcePath)).is(own);
    },
  }),

  scenario({
    id: "PP-08",
    title: "Without the userland proxy a published port answers on 127.0.0.1 through NAT, but not on [::1]",
    area: "daemon-config",
    doc: "Port publishing and mapping (userland-proxy); moby TestAccessPublishedPortFromHost",
    daemon: { "userland-proxy": false },
    requires: [needs.hostNetwork],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      await lab.probe("web").serving(80).publish(80, port).start();
      const host = await lab.hostObserver();
      check(`127.0.0.1:${port} from the host`, await host.request("127.0.0.1", port)).is("HTTP 404");
      // iptables cannot DNAT ::1; only docker-proxy, which is off here, would answer there.
      check(`[::1]:${port} from the host`, await host.request("::1", port, 2)).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "V6-09",
    title: "IPv6 default-address-pools give IPv6 networks created without a subnet a /64 from the pool",
    area: "daemon-config",
    doc: "Use IPv6 networking › Dynamic IPv6 subnet allocation; Networking overview › Subnet allocation",
    daemon: {
      ipv6: true,
      "fixed-cidr-v6": "fd0d:dd08::/64",
      "default-address-pools": [
        { base: "10.213.184.0/22", size: 24 },
        { base: "fd0d:dd09::/56", size: 64 },
      ],
    },
    exclusive: true,
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const created = await lab.attemptNetwork("v6pool", { ipv6: true });
      check(
        "creating an IPv6 network with no subnet",
        derive(created, (c) => c.outcome),
      ).is("accepted");
      const net = created.value.network!;
      const subnets = derive(await lab.inspectNetwork(net), (n) => n.subnets.map((s) => s.subnet));
      check(
        "the new network's IPv6 subnet",
        derive(subnets, (all) => all.filter((s) => s.includes(":"))),
      ).satisfies(
        "one /64 inside fd0d:dd09::/56",
        (v6) => v6.length === 1 && v6[0]!.endsWith("/64") && inSubnet(v6[0]!.split("/")[0]!, "fd0d:dd09::/56"),
      );
      check(
        "the new network's IPv4 subnet",
        derive(subnets, (all) => all.filter((s) => s.includes("."))),
      ).satisfies("one /24 inside 10.213.184.0/22", (v4) => v4.length === 1 && ipv4InSubnet(v4[0]!, "10.213.184.0/22"));
    },
  }),
];
