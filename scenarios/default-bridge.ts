import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { ipv4InSubnet } from "../harness/cidr.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";
import { defaultBridgePair } from "./topologies.js";

const DOC = "Bridge network driver › Use the default bridge network";

export default [
  scenario({
    id: "DB-01",
    title: "A container started without --network joins the default bridge and routes through its gateway",
    area: "default-bridge",
    doc: `${DOC}; Networking overview › Subnet allocation`,
    requires: [needs.defaultBridge],
    brokenBy: "default-bridge-is-user-network",
    async run({ lab, check, engine }) {
      const bridge = await lab.inspectNetwork(lab.defaultBridge);
      const subnet = bridge.value.subnets[0]?.subnet ?? "";
      if (engine.engineKind === "private") {
        // docknet's private engine runs a stock daemon: no bip, no address pools.
        check(
          "the default bridge's subnet on a stock daemon",
          derive(bridge, () => subnet),
        ).is("172.17.0.0/16");
      }
      const { client } = await lab.shared(defaultBridgePair);
      const facts = await lab.inspect(client);
      check(
        "the networks of a container run without --network",
        derive(facts, (f) => Object.keys(f.networks)),
      ).is(["bridge"]);
      const interfaces = await client.interfaces();
      check(
        "eth0's IPv4 address",
        derive(interfaces, (all) => all.find((i) => i.name === "eth0")?.ipv4 ?? []),
      ).satisfies(
        `one address inside ${subnet}`,
        (addresses) => addresses.length === 1 && ipv4InSubnet(addresses[0]!, subnet),
      );
      // A fresh 20.10 daemon leaves the bridge's IPAM gateway empty; the endpoint always names it.
      const gateway = facts.value.networks.bridge?.gateway ?? "";
      check(
        "the gateway the engine reports",
        derive(facts, () => gateway),
      ).satisfies(`inside ${subnet}`, (g) => ipv4InSubnet(g, subnet));
      check("the default route's gateway", await client.defaultGateway()).is(gateway);
    },
  }),

  scenario({
    id: "DB-02",
    title: "Containers on the default bridge reach each other by IP address",
    area: "default-bridge",
    doc: `${DOC}; Networking overview`,
    requires: [needs.defaultBridge],
    brokenBy: { daemonConfig: { icc: false } },
    async run({ lab, check }) {
      const { server, client } = await lab.shared(defaultBridgePair);
      const serverIp = check("the server's address", await lab.addressOn(server, lab.defaultBridge)).matches(
        IPV4_ADDRESS,
      );
      check(
        "ping from client to the server's IP",
        derive(await client.ping(serverIp), (p) => p.outcome),
      ).is("reached");
      check(`HTTP from client to ${serverIp}:8080`, await client.request(serverIp, 8080)).is("HTTP 404");
    },
  }),

  scenario({
    id: "DB-03",
    title: "On the default bridge containers cannot resolve each other by name, and /etc/hosts is not rewritten",
    area: "default-bridge",
    doc: `${DOC} (containers can only communicate by IP address, unless linked)`,
    requires: [needs.defaultBridge],
    brokenBy: "default-bridge-is-user-network",
    async run({ lab, check }) {
      // The server started after the client: nothing of it reaches the client's DNS or /etc/hosts.
      const { client, server } = await lab.shared(defaultBridgePair);
      check("the server's name in DNS, asked from the client", await client.addressesOf(server.name)).is([]);
      check(
        "the server's name in the client's /etc/hosts (the server started after the client)",
        await client.hostsAddressesOf(server.name),
      ).is([]);
    },
  }),

  scenario({
    id: "DB-04",
    title: "A default-bridge container gets a copy of the host's resolv.conf, without loopback resolvers",
    area: "default-bridge",
    doc: "Networking overview › DNS services",
    requires: [needs.defaultBridge, needs.hostNetwork],
    brokenBy: "default-bridge-is-user-network",
    async run({ lab, check }) {
      const host = await lab.hostObserver();
      const bridge = await lab.inspectNetwork(lab.defaultBridge);
      const hostConf = await host.resolvConf();
      const loopback = (ns: string) => ns.startsWith("127.") || ns === "::1";
      const kept = hostConf.value.nameservers.filter((ns) => !loopback(ns) && (bridge.value.ipv6 || !ns.includes(":")));
      const expected = kept.length > 0 ? kept : ["8.8.8.8", "8.8.4.4"];
      const { client } = await lab.shared(defaultBridgePair);
      const conf = await client.resolvConf();
      check(
        `the container's nameservers (the host has ${hostConf.value.nameservers.join(", ") || "none"})`,
        derive(conf, (c) => c.nameservers),
      ).is(expected);
      check(
        "the container's nameservers",
        derive(conf, (c) => c.nameservers),
      ).excludes("127.0.0.11");
    },
  }),

  scenario({
    id: "DB-05",
    title: "Traffic from the default bridge to the outside leaves masqueraded behind the host's address",
    area: "default-bridge",
    doc: "Networking overview › Published ports and egress; Packet filtering and firewalls (MASQUERADE)",
    requires: [needs.defaultBridge, needs.outsideHost],
    brokenBy: { daemonConfig: { "ip-masq": false } },
    async run({ lab, check, engine }) {
      const outside = engine.outsideHost!;
      const { client } = await lab.shared(defaultBridgePair);
      const own = check("the client's own address", await lab.addressOn(client, lab.defaultBridge)).matches(
        IPV4_ADDRESS,
      );
      const seen = await client.fetch(outside.address, 80, outside.sourcePath);
      check(`the source address the outside host ${outside.address} saw`, seen).is(outside.engineAddress);
      check("the source address the outside host saw", seen).isNot(own);
    },
  }),

  scenario({
    id: "DB-06",
    title: "A chosen IP address and network-scoped aliases are refused on the default bridge",
    area: "default-bridge",
    doc: "docker run reference › --ip, --network-alias (user-defined networks only)",
    requires: [needs.defaultBridge],
    brokenBy: "default-bridge-is-user-network",
    async run({ lab, check }) {
      const bridge = await lab.inspectNetwork(lab.defaultBridge);
      const subnet = bridge.value.subnets[0]?.subnet ?? "172.17.0.0/16";
      const wanted = subnet.replace(/\.0\/\d+$/, ".200");
      const withIp = await lab.probe("fixed-ip").on(lab.defaultBridge, { ip: wanted }).attempt();
      check(
        "docker run --ip on the default bridge",
        derive(withIp, (a) => a.message),
      ).matches(/user[- ]specified IP address is supported (only )?on user[- ]defined networks/i);
      const withAlias = await lab
        .probe("alias")
        .on(lab.defaultBridge, { aliases: ["web"] })
        .attempt();
      check(
        "docker run --network-alias on the default bridge",
        derive(withAlias, (a) => a.message),
      ).matches(/network-scoped alias(es)? (is|are) (supported )?only/i);
      const plain = await lab.probe("plain").start();
      const connect = await lab.connect(plain, lab.defaultBridge, { aliases: ["web"] });
      check("docker network connect --alias to the default bridge", connect).isNot("accepted");
    },
  }),

  scenario({
    id: "DB-07",
    title: "A running container can be disconnected from the default bridge (the docs say it must be recreated)",
    area: "default-bridge",
    doc: `${DOC}; moby TestDockerNetworkDisconnectFromBridge — behaviour differs from the docs`,
    requires: [needs.defaultBridge],
    tags: ["docs-differ"],
    brokenBy: "default-bridge-is-user-network",
    async run({ lab, check }) {
      const container = await lab.probe("leaver").start();
      check("interfaces before disconnecting", await container.interfaceNames()).includes("eth0");
      check("docker network disconnect bridge", await lab.disconnect(container, lab.defaultBridge)).is("accepted");
      check("interfaces after disconnecting", await container.interfaceNames()).excludes("eth0");
      check(
        "the container's networks",
        derive(await lab.inspect(container), (f) => Object.keys(f.networks)),
      ).is([]);
    },
  }),
];
