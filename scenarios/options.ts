import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { addressInSubnet, ipv4InSubnet } from "../harness/cidr.js";
import { LARGE_FILE_BYTES } from "../harness/engine/outside-host.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";
import { defaultBridgePair } from "./topologies.js";

const DOC = "docker network create reference";

export default [
  scenario({
    id: "OPT-01",
    title: "--subnet, --gateway and --ip-range: addresses come only from the range, the gateway is the one asked for",
    area: "options",
    doc: `${DOC} › --subnet, --gateway, --ip-range`,
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const subnet = await lab.lab.pickSubnet();
      const prefix = subnet.replace(/\.0\/24$/, "");
      const net = await lab.network("ranged", { subnet, gateway: `${prefix}.254`, ipRange: `${prefix}.128/25` });
      check(
        "the network's IPAM config",
        derive(await lab.inspectNetwork(net), (f) => f.subnets),
      ).is([{ subnet, gateway: `${prefix}.254`, ipRange: `${prefix}.128/25` }]);
      const c = await lab.probe("c").on(net).start();
      check(
        "the container's address",
        derive(await lab.inspect(c), (f) => f.networks[net.name]?.ip ?? ""),
      ).satisfies(`inside ${prefix}.128/25`, (ip) => ipv4InSubnet(ip, `${prefix}.128/25`));
      check("the container's default gateway", await c.defaultGateway()).is(`${prefix}.254`);
      lab.lab.releaseSubnet(subnet);
    },
  }),

  scenario({
    id: "OPT-03",
    title: "com.docker.network.driver.mtu sets the MTU of the containers' interface and of the bridge",
    area: "options",
    doc: "Bridge network driver › Options (com.docker.network.driver.mtu)",
    requires: [needs.hostNetwork],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("mtu", { mtu: 1400 });
      const c = await lab.probe("c").on(net).start();
      check(
        "eth0's MTU",
        derive(await c.interfaces(), (all) => all.find((i) => i.name === "eth0")?.mtu),
      ).is(1400);
      const host = await lab.hostObserver();
      const bridgeName = `br-${net.id.slice(0, 12)}`;
      check(
        `${bridgeName}'s MTU on the host`,
        derive(await host.interfaces(), (all) => all.find((i) => i.name === bridgeName)?.mtu),
      ).is(1400);
    },
  }),

  scenario({
    id: "OPT-09",
    title:
      "On a path narrower than the bridge's MTU, containers' large downloads stall while small answers and the host's own downloads pass; com.docker.network.driver.mtu set to the path's MTU cures it",
    area: "options",
    doc: "Bridge network driver › Options (com.docker.network.driver.mtu); daemon.json mtu; moby#22028",
    requires: [needs.docknetLan],
    brokenBy: "network-options-ignored",
    async run({ lab, check, engine }) {
      // The path to the outside host carries NARROW-byte packets and drops larger ones silently, as a
      // tunnel or VPN uplink does. The host knows its link's MTU and offers a matching TCP MSS; a
      // container on a 1500-byte bridge offers 1460, so the server's full-sized segments never arrive.
      const NARROW = 1400;
      const { link, hostEndMtu } = await lab.outside.narrowLink(NARROW);
      check("the engine host's end of the narrow link: MTU", hostEndMtu).is(NARROW);
      const hostAddress = link.subnet.replace(/0\/24$/, "2");
      check(
        `ip addr add ${hostAddress}/24 dev ${link.parent}`,
        await lab.host.addAddress(link.parent, `${hostAddress}/24`),
      ).is(0);
      const { largePath, sourcePath } = engine.outsideHost!;
      const server = link.outsideAddress;
      const transfer = (bytes: number) => (bytes > LARGE_FILE_BYTES ? "complete" : `stalled after ${bytes} bytes`);
      const stalled = (outcome: string) => outcome.startsWith("stalled");
      check(
        `the engine's host downloads ${LARGE_FILE_BYTES} bytes from ${server} (control: it fits its segments to its link)`,
        derive(await lab.host.download(server, 80, largePath), transfer),
      ).is("complete");

      const [wide, narrow] = await Promise.all([lab.network("wide"), lab.network("narrow", { mtu: NARROW })]);
      const [a, b] = await Promise.all([lab.probe("a").on(wide).start(), lab.probe("b").on(narrow).start()]);
      check(
        `a small answer from ${server} to ${a.name} (MTU 1500), through the narrow link (control)`,
        await a.fetch(server, 80, sourcePath),
      ).is(hostAddress);
      check(
        `${a.name} (MTU 1500) downloads ${LARGE_FILE_BYTES} bytes from ${server}`,
        derive(await a.download(server, 80, largePath), transfer),
      ).satisfies("stalled: the full-sized segments are dropped, and nothing tells the server", stalled);
      check(
        `${b.name}, on a network with com.docker.network.driver.mtu=${NARROW}, downloads the same`,
        derive(await b.download(server, 80, largePath), transfer),
      ).is("complete");
    },
  }),

  scenario({
    id: "OPT-05",
    title: "enable_ip_masquerade=false: egress leaves with the container's own address",
    area: "options",
    doc: "Bridge network driver › Options (com.docker.network.bridge.enable_ip_masquerade)",
    requires: [needs.routeToContainers],
    brokenBy: "network-options-ignored",
    async run({ since, lab, check, engine }) {
      const outside = engine.outsideHost!;
      const masqueraded = await lab.network("masq", { subnet: "pick" });
      const plain = await lab.network("nomasq", {
        subnet: "pick",
        options: { "com.docker.network.bridge.enable_ip_masquerade": "false" },
      });
      const control = await lab.probe("control").on(masqueraded).start();
      check(
        "control: the source the outside host saw from a masqueraded network",
        await control.fetch(outside.address, 80, outside.sourcePath),
      ).is(outside.engineAddress);
      const c = await lab.probe("c").on(plain).start();
      const own = check("the container's own address", await lab.addressOn(c, plain)).matches(IPV4_ADDRESS);
      if (
        !since(
          "28.0",
          "Engine 28.0 release notes; docs Packet filtering and firewalls: direct routing to containers is filtered",
        )
      ) {
        check(
          "the source the outside host saw without masquerading",
          await c.fetch(outside.address, 80, outside.sourcePath),
        ).is(own);
        return;
      }
      // From 28.0 the engine filters packets routed straight to container addresses in the default
      // gateway mode (nat), replies included: the answer to an unmasqueraded request never comes back
      // (Engine 28.0 release notes; docs: Packet filtering and firewalls, "Direct routing").
      check(
        "28.0+: the answer to the container's own address, gateway mode nat",
        await c.fetch(outside.address, 80, outside.sourcePath),
      ).is("no answer (timeout)");
      const open = await lab.network("nomasq-open", {
        subnet: "pick",
        options: {
          "com.docker.network.bridge.enable_ip_masquerade": "false",
          "com.docker.network.bridge.gateway_mode_ipv4": "nat-unprotected",
        },
      });
      const d = await lab.probe("d").on(open).start();
      const ownD = check(
        "the container's own address on a nat-unprotected network",
        await lab.addressOn(d, open),
      ).matches(IPV4_ADDRESS);
      check(
        "28.0+: the source the outside host saw without masquerading, gateway mode nat-unprotected",
        await d.fetch(outside.address, 80, outside.sourcePath),
      ).is(ownD);
    },
  }),

  scenario({
    id: "OPT-06",
    title: "com.docker.network.host_ipv4 makes egress leave with that host address instead of masquerading",
    area: "options",
    doc: "Bridge network driver › Options (com.docker.network.host_ipv4: the source address for outgoing traffic)",
    // The address is added to the engine's host: docknet changes only its own engines' hosts.
    requires: [needs.outsideHost, needs.engineNamespace],
    brokenBy: "network-options-ignored",
    async run({ lab, check, engine }) {
      const outside = engine.outsideHost!;
      // An address of the engine's host the outside host routes back (docknet's 10.213.0.0/16 leads there).
      const source = addressInSubnet(await lab.spareSubnet(), 250);
      check(`ip addr add ${source}/32 dev lo on the engine's host`, await lab.host.addAddress("lo", `${source}/32`)).is(
        0,
      );
      const { client } = await lab.shared(defaultBridgePair);
      check(
        "control: the source the outside host saw from the default bridge (masqueraded)",
        await client.fetch(outside.address, 80, outside.sourcePath),
      ).is(outside.engineAddress);
      const net = await lab.network("snat", { options: { "com.docker.network.host_ipv4": source } });
      const c = await lab.probe("c").on(net).start();
      check(
        `the source the outside host saw from a network with host_ipv4=${source}`,
        await c.fetch(outside.address, 80, outside.sourcePath),
      ).is(source);
    },
  }),

  scenario({
    id: "OPT-07",
    title: "com.docker.network.container_iface_prefix names the containers' interfaces",
    area: "options",
    doc: "Bridge network driver › Options (com.docker.network.container_iface_prefix)",
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("prefixed", { interfacePrefix: "dnk" });
      const c = await lab.probe("c").on(net).start();
      check("interfaces inside the container", await c.interfaceNames()).includes("dnk0");
    },
  }),

  scenario({
    id: "OPT-02",
    title: "--aux-address keeps its addresses out of allocation: containers get the next free ones",
    area: "options",
    doc: `${DOC} › --aux-address`,
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const picked = await lab.lab.pickSubnet();
      const prefix = picked.replace(/\.0\/24$/, "");
      // A /29: the gateway takes .1; .2 and .3 are named for devices the engine must not hand out.
      const net = await lab.network("aux", {
        subnet: `${prefix}.0/29`,
        auxAddresses: { router: `${prefix}.2`, printer: `${prefix}.3` },
      });
      const addresses: string[] = [];
      for (const short of ["a", "b", "c"]) {
        const probe = await lab.probe(short).on(net).start();
        addresses.push((await lab.addressOn(probe, net)).value);
      }
      check(`the addresses of three containers on ${prefix}.0/29`, {
        value: addresses,
        how: `docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' a b c`,
      }).is([`${prefix}.4`, `${prefix}.5`, `${prefix}.6`]);
      lab.lab.releaseSubnet(picked);
    },
  }),

  scenario({
    id: "OPT-04",
    title: "com.docker.network.bridge.name names the host's bridge: the gateway is on it, and there is no br-<id>",
    area: "options",
    doc: "Bridge network driver › Options (com.docker.network.bridge.name)",
    requires: [needs.hostNetwork],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      // Interface names hold 15 characters: a short random one, unlikely to meet another run's.
      const bridge = `dn-${Math.random().toString(16).slice(2, 10)}`;
      const net = await lab.network("named", { options: { "com.docker.network.bridge.name": bridge } });
      const c = await lab.probe("c").on(net).start();
      const gateway = check("the container's default gateway", await c.defaultGateway()).matches(IPV4_ADDRESS);
      const host = await lab.hostObserver();
      check(`the addresses of ${bridge} on the engine's host`, await host.ipv4AddressesOf(bridge)).includes(gateway);
      check(
        `br-${net.id.slice(0, 12)} on the engine's host`,
        derive(await host.interfaceNames(), (names) =>
          names.includes(`br-${net.id.slice(0, 12)}`) ? "present" : "absent",
        ),
      ).is("absent");
    },
  }),

  scenario({
    id: "OPT-08",
    title: "--subnet 0.0.0.0/24 asks for a size only: the network gets a /24 from the address pools, not 0.0.0.0/24",
    area: "options",
    doc: `${DOC} › --subnet; Engine 29.0 release notes (size-only subnet requests)`,
    requires: [needs.engineAtLeast("29.0", "size-only --subnet requests arrived in Engine 29.0")],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const created = await lab.attemptNetwork("sized", { subnet: "0.0.0.0/24" });
      check(
        "docker network create --subnet 0.0.0.0/24",
        derive(created, (c) => c.outcome),
      ).is("accepted");
      const subnets = derive(await lab.inspectNetwork(created.value.network!), (n) => n.subnets.map((x) => x.subnet));
      check("the network's IPv4 subnet", subnets).satisfies(
        "one /24, not 0.0.0.0/24",
        (s) => s.length === 1 && s[0]!.endsWith("/24") && !s[0]!.startsWith("0.0.0.0/"),
      );
    },
  }),
];
