import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { OUTSIDE_ZONE_NAME } from "../harness/engine/dns-stub.js";
import type { NetworkRef } from "../harness/lab/probe-spec.js";
import type { Probe } from "../harness/lab/probe.js";
import { scenario, type ScenarioContext } from "../harness/scenario.js";
import { userBridgePair } from "./topologies.js";

/**
 * Podman's documented DNS, keyed like since() keys versions: aardvark-dns answers on each network's
 * gateway, and asks the --dns servers itself, from the engine's host.
 */
const AARDVARK_ON_GATEWAY = [
  "podman",
  "aardvark-dns answers on the network's gateway, not on 127.0.0.11",
  "podman-network(1) › dns_enabled; aardvark-dns",
] as const;
const AARDVARK_ASKS_FROM_HOST = [
  "podman",
  "aardvark-dns on the network's gateway forwards to the --dns servers from the engine's host, so a server on another network answers",
  "podman-run(1) › --dns; aardvark-dns",
] as const;

/** Docker's embedded DNS server, in every container on a user-defined network. */
const EMBEDDED_DNS = "127.0.0.11";

/** The resolver a client on NET should find in its resolv.conf: 127.0.0.11, or on Podman the network's gateway. */
async function expectedResolver(
  { lab, check, differs }: Pick<ScenarioContext, "lab" | "check" | "differs">,
  client: Probe,
  net: NetworkRef,
): Promise<string> {
  if (!differs(...AARDVARK_ON_GATEWAY)) return EMBEDDED_DNS;
  return check("the network's gateway", await lab.gatewayOn(client, net)).matches(IPV4_ADDRESS);
}

/** A name only docknet's DNS server in a container knows, and its answer (never contacted). */
const INTERNAL_NAME = "foobar.internal";
const INTERNAL_ANSWER = "10.213.254.8";

export default [
  scenario({
    id: "DNS-01",
    title: "On a user-defined network the resolver is the embedded DNS server at 127.0.0.11, with ndots:0",
    area: "dns",
    doc: "Networking overview › DNS services",
    brokenBy: "user-network-is-default-bridge",
    async run({ since, lab, check, differs }) {
      const { client, net } = await lab.shared(userBridgePair);
      const conf = await client.resolvConf();
      const resolver = await expectedResolver({ lab, check, differs }, client, net);
      if (resolver !== EMBEDDED_DNS) {
        const gateway = resolver;
        check(
          "the first nameserver in /etc/resolv.conf",
          derive(conf, (c) => c.nameservers[0] ?? ""),
        ).is(gateway);
        check(`UDP ${gateway}:53 answers`, await client.connect(gateway, 53, 2, "udp")).is("open");
        return;
      }
      check(
        "nameservers in /etc/resolv.conf",
        derive(conf, (c) => c.nameservers),
      ).is(["127.0.0.11"]);
      check(
        "resolver options",
        derive(conf, (c) => c.options),
      ).includes("ndots:0");
      check("UDP 127.0.0.11:53 answers", await client.connect("127.0.0.11", 53, 2, "udp")).is("open");
      // Engines from 25.0 (moby's resolvconf rewrite) record the host's upstreams in a comment.
      if (since("25.0", "moby's resolv.conf rewrite (Engine 25.0 release notes)")) {
        check(
          "the upstream servers recorded in resolv.conf",
          derive(conf, () => conf.raw ?? ""),
        ).includes("# ExtServers:");
      }
    },
  }),

  scenario({
    id: "DNS-02",
    title: "The embedded DNS resolves a container's name, short ID, aliases and <name>.<network>",
    area: "dns",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: "Bridge network driver › automatic DNS resolution between containers",
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check }) {
      const { net, db, client } = await lab.shared(userBridgePair);
      const ip = check(`${db.name}'s address on ${net.name}`, await lab.addressOn(db, net)).matches(IPV4_ADDRESS);
      check(`${db.name} by name`, await client.addressesOf(db.name)).is([ip]);
      check(`${db.name} by short ID ${db.shortId}`, await client.addressesOf(db.shortId)).is([ip]);
      check(`${db.name} by its alias "database"`, await client.addressesOf("database")).is([ip]);
      check(`${db.name}.${net.name}`, await client.addressesOf(`${db.name}.${net.name}`)).is([ip]);
    },
  }),

  scenario({
    id: "DNS-03",
    title: "Aliases are per network: after disconnecting one network its alias stops resolving, the other's stays",
    area: "dns",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: "docker network connect reference › --alias",
    brokenBy: "detach-after-start",
    async run({ lab, check }) {
      const first = await lab.network("one");
      const second = await lab.network("two");
      const target = await lab
        .probe("target")
        .on(first, { aliases: ["foo"] })
        .start();
      check("connect to the second network with alias bar", await lab.connect(target, second, { aliases: ["bar"] })).is(
        "accepted",
      );
      const client = await lab.probe("client").on(first).on(second).start();
      check("alias foo (first network) before the disconnect", await client.addressesOf("foo")).satisfies(
        "one address",
        (a) => a.length === 1,
      );
      check("alias bar (second network) before the disconnect", await client.addressesOf("bar")).satisfies(
        "one address",
        (a) => a.length === 1,
      );
      check("disconnect from the first network", await lab.disconnect(target, first)).is("accepted");
      check("alias foo after the disconnect", await client.addressesOf("foo")).is([]);
      check("alias bar after the disconnect", await client.addressesOf("bar")).satisfies(
        "one address",
        (a) => a.length === 1,
      );
      check("the short ID after the disconnect", await client.addressesOf(target.shortId)).satisfies(
        "one address",
        (a) => a.length === 1,
      );
    },
  }),

  scenario({
    id: "DNS-09",
    title: "--add-host writes /etc/hosts, and host-gateway maps to the default bridge's gateway",
    area: "dns",
    doc: "Networking overview › Custom hosts",
    requires: [needs.defaultBridge, needs.engineAtLeast("20.10", "host-gateway arrived in 20.10")],
    brokenBy: "extra-hosts-dropped",
    async run({ lab, check }) {
      const client = await lab
        .probe("client")
        .addHost("extra.test", "192.0.2.10")
        .addHost("thehost", "host-gateway")
        .start();
      const gateway = check("the default bridge's gateway", await lab.gatewayOn(client, lab.defaultBridge)).matches(
        IPV4_ADDRESS,
      );
      check("extra.test in /etc/hosts", await client.hostsAddressesOf("extra.test")).is(["192.0.2.10"]);
      check("thehost (host-gateway) in /etc/hosts", await client.hostsAddressesOf("thehost")).is([gateway]);
    },
  }),

  scenario({
    id: "DNS-10",
    title:
      "/etc/hosts lists localhost and the container's own addresses; a disconnect removes only that network's line",
    area: "dns",
    doc: "Networking overview › IP address and hostname; the disconnect part from 28.0 (moby/moby#48857 fixed moby/moby#34044)",
    brokenBy: "user-network-is-default-bridge",
    async run({ since, lab, check }) {
      const first = await lab.network("one");
      const second = await lab.network("two");
      const named = await lab.probe("named").on(first).withHostname("web").start();
      check("localhost in /etc/hosts", await named.hostsAddressesOf("localhost")).includes("127.0.0.1");
      const firstIp = check("the address on the first network", await lab.addressOn(named, first)).matches(
        IPV4_ADDRESS,
      );
      check("the hostname set with --hostname", await named.hostsAddressesOf("web")).is([firstIp]);
      const plain = await lab.probe("plain").on(first).start();
      const plainIp = check("the plain container's address", await lab.addressOn(plain, first)).matches(IPV4_ADDRESS);
      check("the default hostname (the short ID)", await plain.hostsAddressesOf(plain.shortId)).is([plainIp]);
      // Before 28.0 a disconnect removed every line of the container's own name.
      if (!since("28.0", "moby#48857 fixed moby#34044")) return;
      check("connect to a second network", await lab.connect(named, second)).is("accepted");
      check("disconnect from the second network", await lab.disconnect(named, second)).is("accepted");
      check("the first network's line after the disconnect", await named.hostsAddressesOf("web")).is([firstIp]);
    },
  }),

  scenario({
    id: "DNS-04",
    title:
      "With only a loopback resolver on the host, user-defined networks still resolve outside names (the embedded DNS asks it from the host's namespace); the default bridge gets public resolvers instead",
    area: "dns",
    doc: "Networking overview › DNS services; Bridge network driver › (resolv.conf: loopback nameservers are dropped)",
    // The host's resolv.conf is the engine's for as long as the scenario runs: nothing else may start containers meanwhile.
    exclusive: true,
    requires: [needs.engineNamespace],
    brokenBy: "servers-down",
    async run({ lab, check }) {
      const resolver = await lab.dns.serverOnEngineHost("127.0.0.1", { [INTERNAL_NAME]: INTERNAL_ANSWER });
      check("the engine host's /etc/resolv.conf", await lab.host.setResolvConf("nameserver 127.0.0.1\n")).is(
        "nameserver 127.0.0.1\n",
      );
      const net = await lab.network("dns");
      const client = await lab.probe("client").on(net).start();
      check(`${INTERNAL_NAME} through the embedded DNS`, await client.addressesOf(INTERNAL_NAME)).is([INTERNAL_ANSWER]);
      check(
        `who asked the host's resolver 127.0.0.1 for ${INTERNAL_NAME}`,
        await lab.dns.askers(resolver, INTERNAL_NAME),
      ).is(["127.0.0.1"]);
      // A loopback address means nothing inside a container: on the default bridge Docker puts public resolvers instead.
      const plain = await lab.probe("plain").start();
      check(
        "nameservers in a default-bridge container's /etc/resolv.conf",
        derive(await plain.resolvConf(), (c) => c.nameservers),
      ).is(["8.8.8.8", "8.8.4.4"]);
    },
  }),

  scenario({
    id: "DNS-05",
    title:
      "On a user-defined network --dns servers become the embedded DNS's upstreams: resolv.conf still says 127.0.0.11, and the upstream sees the engine host's address",
    area: "dns",
    doc: "Networking overview › DNS services (custom DNS servers on user-defined networks)",
    requires: [needs.outsideHost],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check, engine, differs }) {
      const outside = engine.outsideHost!;
      const net = await lab.network("dns");
      const client = await lab.probe("client").on(net).dns(outside.dns.address).start();
      check(
        "nameservers in /etc/resolv.conf",
        derive(await client.resolvConf(), (c) => c.nameservers),
      ).is([await expectedResolver({ lab, check, differs }, client, net)]);
      check(`${OUTSIDE_ZONE_NAME} through the embedded DNS`, await client.addressesOf(OUTSIDE_ZONE_NAME)).is([
        outside.address,
      ]);
      // The embedded DNS forwards from the container's namespace; masquerading gives the query the host's address.
      // The upstream is the run's outside host, which other scenarios ask too: the claim is about this client's query.
      const own = check("the client's own address", await lab.addressOn(client, net)).matches(IPV4_ADDRESS);
      const askers = await lab.dns.askers(outside.dns, OUTSIDE_ZONE_NAME);
      check(`who asked the upstream ${outside.dns.address} for ${OUTSIDE_ZONE_NAME}`, askers).includes(
        outside.engineAddress,
      );
      check(`who asked the upstream ${outside.dns.address} for ${OUTSIDE_ZONE_NAME}`, askers).excludes(own);
      // The embedded DNS never forwards to itself: --dns 127.0.0.11 alone leaves no upstream.
      const looped = await lab.probe("looped").on(net).dns("127.0.0.11").start();
      check(`${OUTSIDE_ZONE_NAME} with --dns 127.0.0.11 alone`, await looped.addressesOf(OUTSIDE_ZONE_NAME)).is([]);
    },
  }),

  scenario({
    id: "DNS-08",
    title:
      "--dns naming a DNS server in a container on an --internal network works: the embedded DNS forwards to it from the client's namespace",
    area: "dns",
    doc: "Networking overview › DNS services (custom DNS servers); docker network create reference › --internal",
    // The server is docknet's stub DNS, run in a container's network namespace from the engine's host.
    requires: [needs.engineHost],
    brokenBy: "servers-down",
    async run({ lab, check, differs }) {
      const internal = await lab.network("internal", { internal: true });
      const server = await lab.probe("dns").on(internal).start();
      const stub = await lab.dns.serverIn(server, internal, { [INTERNAL_NAME]: INTERNAL_ANSWER });
      const client = await lab.probe("client").on(internal).dns(stub.address).start();
      const clientIp = (await lab.addressOn(client, internal)).value;
      const resolver = await expectedResolver({ lab, check, differs }, client, internal);
      check(
        "nameservers in the client's /etc/resolv.conf",
        derive(await client.resolvConf(), (c) => c.nameservers),
      ).is([resolver]);
      check(`${INTERNAL_NAME} through the embedded DNS`, await client.addressesOf(INTERNAL_NAME)).is([INTERNAL_ANSWER]);
      // Docker's embedded DNS asks from the client's namespace; aardvark-dns from the host, on the gateway.
      const asker = differs(...AARDVARK_ASKS_FROM_HOST) ? resolver : clientIp;
      check(
        `who asked ${server.name} (${stub.address}) for ${INTERNAL_NAME}`,
        await lab.dns.askers(stub, INTERNAL_NAME),
      ).is([asker]);
    },
  }),

  scenario({
    id: "DNS-07",
    title:
      "A container only on an --internal network gets no answer for outside names; connecting a non-internal network brings them back",
    area: "dns",
    doc: "docker network create reference › --internal",
    requires: [needs.outsideHost],
    brokenBy: "network-options-ignored",
    async run({ lab, check, engine }) {
      const outside = engine.outsideHost!;
      const internal = await lab.network("internal", { internal: true });
      const open = await lab.network("open");
      const client = await lab.probe("client").on(internal).dns(outside.dns.address).start();
      check(`${OUTSIDE_ZONE_NAME} from the internal network only`, await client.addressesOf(OUTSIDE_ZONE_NAME)).is([]);
      check(`docker network connect ${open.name}`, await lab.connect(client, open)).is("accepted");
      check(`${OUTSIDE_ZONE_NAME} once also on ${open.name}`, await client.addressesOf(OUTSIDE_ZONE_NAME)).is([
        outside.address,
      ]);
    },
  }),

  scenario({
    id: "DNS-06",
    title:
      "On the default bridge --dns, --dns-search and --dns-option are written to /etc/resolv.conf as given; --dns-search . writes no search line",
    area: "dns",
    doc: "Networking overview › DNS services (--dns, --dns-search, --dns-option); docker run reference",
    brokenBy: "dns-settings-dropped",
    async run({ lab, check }) {
      const given = await lab
        .probe("given")
        .dns("10.213.255.53")
        .dnsSearch("docknet.test")
        .dnsOption("ndots:9")
        .start();
      const conf = await given.resolvConf();
      check(
        "nameservers in /etc/resolv.conf",
        derive(conf, (c) => c.nameservers),
      ).is(["10.213.255.53"]);
      check(
        "search domains",
        derive(conf, (c) => c.search),
      ).is(["docknet.test"]);
      check(
        "resolver options",
        derive(conf, (c) => c.options),
      ).is(["ndots:9"]);
      // The control above shows search domains are written as given; "." is not written as "search .":
      // it asks for no search line at all (not even the host's).
      const none = await lab.probe("none").dns("10.213.255.53").dnsSearch(".").start();
      check(
        "search domains with --dns-search .",
        derive(await none.resolvConf(), (c) => c.search),
      ).is([]);
    },
  }),

  scenario({
    id: "DNS-11",
    title:
      "After swarm init, a user-defined bridge still resolves its containers' names and, through a --dns upstream, outside names",
    area: "dns",
    doc: "Networking overview › DNS services; Engine 29.0.1 and 29.1.0 release notes (moby#51491, moby#51614: DNS after swarm init)",
    // swarm init makes the engine a manager, with an ingress network and docker_gwbridge: its own engine.
    ownEngine: true,
    exclusive: true,
    requires: [needs.engineNamespace, needs.outsideHost],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check, engine }) {
      const outside = engine.outsideHost!;
      const net = await lab.network("app");
      const web = await lab.probe("web").on(net).start();
      const ask = async (short: string, when: string) => {
        const client = await lab.probe(short).on(net).dns(outside.dns.address).start();
        check(`${web.name} from a client on ${net.name}, ${when}`, await client.addressesOf(web.name)).satisfies(
          "one address",
          (a) => a.length === 1,
        );
        check(`${OUTSIDE_ZONE_NAME} through the embedded DNS, ${when}`, await client.addressesOf(OUTSIDE_ZONE_NAME)).is(
          [outside.address],
        );
      };
      await ask("before", "before swarm init");
      check("docker swarm init", await lab.swarmInit(outside.engineAddress)).is("accepted");
      await ask("after", "after swarm init");
    },
  }),

  scenario({
    id: "DNS-12",
    title:
      "--dns servers are asked from the container's own namespace: a DNS server in a container on another user-defined bridge gets no query until the client joins its bridge",
    area: "dns",
    doc: "Networking overview › DNS services (requests to --dns servers are made from the container's network namespace: docker/docs#20049); moby#51614",
    requires: [needs.engineHost],
    brokenBy: "servers-down",
    async run({ lab, check, differs }) {
      const [serverNet, clientNet] = await Promise.all([lab.network("dns"), lab.network("app")]);
      const server = await lab.probe("dns").on(serverNet).start();
      const stub = await lab.dns.serverIn(server, serverNet, { [INTERNAL_NAME]: INTERNAL_ANSWER });
      // The control: a client on the server's own bridge gets its answer.
      const neighbour = await lab.probe("neighbour").on(serverNet).dns(stub.address).start();
      check(`${INTERNAL_NAME} from a client on ${serverNet.name}`, await neighbour.addressesOf(INTERNAL_NAME)).is([
        INTERNAL_ANSWER,
      ]);
      const client = await lab.probe("client").on(clientNet).dns(stub.address).start();
      // Podman's aardvark-dns asks the --dns servers itself, from the host; a Podman that writes them
      // into resolv.conf instead (4.3) has its clients ask from their namespace, as Docker's do.
      const asksDirectly = (await client.resolvConf()).value?.nameservers.includes(stub.address) ?? false;
      const askedFromHost = !asksDirectly && differs(...AARDVARK_ASKS_FROM_HOST);
      check(`${INTERNAL_NAME} from a client on ${clientNet.name} only`, await client.addressesOf(INTERNAL_NAME)).is(
        askedFromHost ? [INTERNAL_ANSWER] : [],
      );
      if (askedFromHost) return;
      check(`docker network connect ${serverNet.name} client`, await lab.connect(client, serverNet)).is("accepted");
      check(`${INTERNAL_NAME} once the client is on ${serverNet.name} too`, await client.addressesOf(INTERNAL_NAME)).is(
        [INTERNAL_ANSWER],
      );
      const addresses = [neighbour, client].map(async (p) => (await lab.addressOn(p, serverNet)).value);
      check(`who asked ${server.name} for ${INTERNAL_NAME}`, await lab.dns.askers(stub, INTERNAL_NAME)).is(
        await Promise.all(addresses),
      );
    },
  }),
];
