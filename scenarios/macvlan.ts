import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { scenario } from "../harness/scenario.js";
import { beyondTheNetwork } from "./no-parent.js";

/**
 * macvlan: containers appear on the parent's LAN as machines of their own,
 * each with its own MAC address. The LAN here is a link docknet makes between
 * the engine's host and its outside host, which plays the LAN's router and
 * neighbours. A real parent is used only when named (--macvlan-parent); then
 * only the scenarios that need no view from the LAN's side run on it.
 */

const MACVLAN_DOC = "Network drivers › Macvlan network driver";
const macvlanKernel = needs.kernel("macvlan", "macvlan networks need the macvlan module");
const onLan = [needs.docknetLan, macvlanKernel];
const onAnyParent = [needs.macvlanParent, macvlanKernel];

export default [
  scenario({
    id: "MV-06",
    title:
      "A macvlan container is its own machine on the LAN: the outside host reaches it and sees its own MAC address",
    area: "macvlan",
    doc: `${MACVLAN_DOC} › (the container appears as a physical device on the network)`,
    requires: onLan,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check }) {
      const { link, network: net } = await lab.outside.lan("lan", "macvlan");
      const box = await lab.probe("box").on(net).serving(80).start();
      const facts = (await lab.inspect(box)).value.networks[net.name];
      const ip = check(
        `${box.name}'s address on ${net.name}`,
        derive(await lab.addressOn(box, net), (a) => a),
      ).satisfies(`in ${link.subnet}`, (a) => a.startsWith(link.subnet.replace(/0\/24$/, "")));
      check(`http://${ip} from the outside host`, await lab.outside.host().request(ip, 80)).is("HTTP 404");
      check(
        `the outside host's neighbour entry for ${ip}`,
        derive(await lab.outside.neighbours(link), (n) => n.find((e) => e.address === ip)?.mac ?? "none"),
      ).is(facts?.mac ?? "unknown");
      const parentMac = derive(await lab.host.run(["cat", `/sys/class/net/${link.parent}/address`]), (o) =>
        o.stdout.trim(),
      );
      check(
        `${box.name}'s MAC against the parent ${link.parent}'s`,
        derive(parentMac, (mac) => mac === (facts?.mac ?? "")),
      ).is(false);
    },
  }),

  scenario({
    id: "MV-07",
    title: "The macvlan parent's host cannot reach its own macvlan containers, while the LAN can",
    area: "macvlan",
    doc: `${MACVLAN_DOC} › (a macvlan parent does not talk to its children)`,
    requires: onAnyParent,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check }) {
      const { parent, subnet, network: net } = await lab.outside.parentNetwork("lan");
      const box = await lab.probe("box").on(net).start();
      const ip = (await lab.addressOn(box, net)).value;
      // The host gets an address on the LAN, as a host on that network would have.
      const hostAddress = subnet.replace(/0\/24$/, "254");
      check(`ip addr add ${hostAddress}/24 dev ${parent}`, await lab.host.addAddress(parent, `${hostAddress}/24`)).is(
        0,
      );
      const neighbour = await lab.outside.neighbour(net);
      check(
        `ping ${ip} from ${neighbour.name}, on the LAN (control)`,
        derive(await neighbour.ping(ip), (p) => p.outcome),
      ).is("reached");
      const fromHost = await lab.host.run(["ping", "-c", "1", "-W", "2", ip]);
      check(
        `ping ${ip} from the engine's host, over ${parent}`,
        derive(fromHost, (o) => (o.code === 0 ? "reached" : "no reply")),
      ).is("no reply");
    },
  }),

  scenario({
    id: "MV-02",
    title:
      "Several macvlan networks may share a parent (from 27.0; refused before), but never with one in passthru mode, whichever comes first",
    area: "macvlan",
    doc: `${MACVLAN_DOC} › Options (macvlan_mode)`,
    requires: onLan,
    brokenBy: "network-options-ignored",
    async run({ lab, check, since }) {
      const [shared, passthruFirst] = [await lab.outside.link(), await lab.outside.link()];
      const lanA = await lab.attemptNetwork("a", {
        driver: "macvlan",
        subnet: "10.217.1.0/24",
        options: { parent: shared.parent },
      });
      check(
        `a macvlan network on ${shared.parent}`,
        derive(lanA, (a) => a.outcome),
      ).is("accepted");
      const lanB = await lab.attemptNetwork("b", {
        driver: "macvlan",
        subnet: "10.217.2.0/24",
        options: { parent: shared.parent },
      });
      if (since("27.0", "moby#47318: several macvlan networks may share a parent (Engine 27.0)")) {
        check(
          `a second macvlan network on ${shared.parent}`,
          derive(lanB, (a) => a.outcome),
        ).is("accepted");
      } else {
        check(
          `a second macvlan network on ${shared.parent}`,
          derive(lanB, (a) => a.outcome),
        ).matches(/already using parent interface/);
      }
      const passthru = await lab.attemptNetwork("pt", {
        driver: "macvlan",
        subnet: "10.217.3.0/24",
        options: { parent: shared.parent, macvlan_mode: "passthru" },
      });
      check(
        `a passthru network on ${shared.parent}, already in use`,
        derive(passthru, (a) => a.outcome),
      ).isNot("accepted");
      const first = await lab.attemptNetwork("pt-first", {
        driver: "macvlan",
        subnet: "10.217.4.0/24",
        options: { parent: passthruFirst.parent, macvlan_mode: "passthru" },
      });
      check(
        `a passthru network on ${passthruFirst.parent}`,
        derive(first, (a) => a.outcome),
      ).is("accepted");
      const after = await lab.attemptNetwork("after", {
        driver: "macvlan",
        subnet: "10.217.5.0/24",
        options: { parent: passthruFirst.parent },
      });
      check(
        `a bridge-mode network on ${passthruFirst.parent}, held in passthru`,
        derive(after, (a) => a.outcome),
      ).isNot("accepted");
    },
  }),

  scenario({
    id: "MV-08",
    title:
      "A macvlan network created without --gateway: containers reach the LAN, and get a default route through the subnet's first address before 29.0, none from 29.0",
    area: "macvlan",
    doc: `${MACVLAN_DOC}; Engine 29.0 release notes (moby#50929)`,
    requires: onLan,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check, engine, since }) {
      const link = await lab.outside.link();
      // The LAN's router (the outside host) is the subnet's .1, the address IPAM picked as gateway before 29.0.
      const net = await lab.network("nogw", {
        driver: "macvlan",
        subnet: link.subnet,
        options: { parent: link.parent },
      });
      const box = await lab.probe("box").on(net).start();
      check(
        `ping ${link.outsideAddress}, on the LAN (control)`,
        derive(await box.ping(link.outsideAddress), (p) => p.outcome),
      ).is("reached");
      const noGateway = since(
        "29.0",
        "moby#50929: macvlan and ipvlan-l2 networks get no default gateway unless --gateway is given",
      );
      check(`${box.name}'s default route`, await box.defaultGateway()).is(noGateway ? "none" : link.outsideAddress);
      const beyond = engine.outsideHost!.address;
      check(
        `ping ${beyond}, beyond the LAN (the outside host's address on its other link)`,
        derive(await box.ping(beyond), (p) => p.outcome),
      ).is(noGateway ? "unreachable" : "reached");
    },
  }),

  scenario({
    id: "MV-04",
    title:
      "Dual-stack macvlan with --ip and --ip6: containers keep the addresses asked for, route via the given gateways, and ping over both",
    area: "macvlan",
    doc: `${MACVLAN_DOC} › Use IPv6`,
    requires: onLan,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check }) {
      const link = await lab.outside.link();
      const net = await lab.network("dual", {
        driver: "macvlan",
        subnet: link.subnet,
        gateway: link.outsideAddress,
        ipv6Subnet: link.ipv6Subnet,
        ipv6Gateway: link.outsideIpv6Address,
        options: { parent: link.parent },
      });
      const v4 = (n: number) => link.subnet.replace(/0\/24$/, String(n));
      const v6 = (n: number) => link.ipv6Subnet.replace(/::\/64$/, `::${n}`);
      const a = await lab
        .probe("a")
        .on(net, { ip: v4(10), ip6: v6(10) })
        .start();
      const b = await lab
        .probe("b")
        .on(net, { ip: v4(11), ip6: v6(11) })
        .start();
      const addresses = derive(await a.interfaces(), (list) => list.flatMap((i) => [...i.ipv4, ...(i.ipv6 ?? [])]));
      check(`${a.name}'s IPv4 address`, addresses).includes(`${v4(10)}/24`);
      check(`${a.name}'s IPv6 address`, addresses).includes(`${v6(10)}/64`);
      check(`${a.name}'s IPv4 default route`, await a.defaultGateway()).is(link.outsideAddress);
      check(
        `${a.name}'s IPv6 default route`,
        derive(await a.routes("ipv6"), (r) => r.find((x) => x.destination === "default")?.via ?? "none"),
      ).is(link.outsideIpv6Address);
      check(
        `ping the IPv4 gateway ${link.outsideAddress} (the LAN's router)`,
        derive(await a.ping(link.outsideAddress), (p) => p.outcome),
      ).is("reached");
      check(
        `ping the IPv6 gateway ${link.outsideIpv6Address}`,
        derive(await a.ping(link.outsideIpv6Address, "ipv6"), (p) => p.outcome),
      ).is("reached");
      check(
        `ping ${v4(11)} from ${a.name}`,
        derive(await a.ping(v4(11)), (p) => p.outcome),
      ).is("reached");
      check(
        `ping ${v6(11)} from ${a.name}`,
        derive(await a.ping(v6(11), "ipv6"), (p) => p.outcome),
      ).is("reached");
      check(
        `ping ${a.name} from ${b.name} by name`,
        derive(await b.ping(a.name), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "MV-05",
    title: "No NAT for macvlan: -p makes no iptables rule, so only the container's own address answers",
    area: "macvlan",
    doc: "Packet filtering and firewalls › (macvlan, ipvlan and host networks get no port mapping rules)",
    requires: onAnyParent,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check }) {
      const { network: net } = await lab.outside.parentNetwork("lan");
      const port = await lab.hostPort();
      const box = await lab.probe("box").on(net).serving(80).publish(80, port).start();
      const ip = (await lab.addressOn(box, net)).value;
      const neighbour = await lab.outside.neighbour(net);
      // Once (a clean-clone run of the system-engine test; not seen again in a rerun or 32 private-engine
      // runs) a fresh macvlan endpoint answered this first request with a reset: the control waits up to 5 s.
      check(
        `http://${ip}:80 from ${neighbour.name}, on the LAN (control)`,
        await lab.eventually(
          () => neighbour.request(ip, 80),
          (answer) => answer === "HTTP 404",
          5000,
        ),
      ).is("HTTP 404");
      const nat = await lab.host.firewall("nat");
      check(
        `nat rules for ${ip} or port ${port}`,
        derive(nat, (rules) => rules.rules.filter((r) => r.includes(ip) || r.includes(`--dport ${port}`))),
      ).is([]);
    },
  }),

  scenario({
    id: "MV-01",
    title: "parent=<link>.60 makes the 802.1Q sub-interface, and removing the last network that uses it deletes it",
    area: "macvlan",
    doc: `${MACVLAN_DOC} › 802.1Q trunk bridge mode`,
    requires: [...onLan, needs.kernel("vlan", "the engine makes 802.1Q sub-interfaces")],
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const link = await lab.outside.link();
      const sub = `${link.parent}.60`;
      const exists = async () =>
        derive(await lab.host.run(["ip", "-o", "link", "show", sub]), (o) => (o.code === 0 ? "present" : "absent"));
      check(`${sub} before`, await exists()).is("absent");
      const net = await lab.network("vlan", { driver: "macvlan", subnet: "10.217.60.0/24", options: { parent: sub } });
      check(`${sub} with the network`, await exists()).is("present");
      check(`docker network rm ${net.name}`, await lab.removeNetwork(net)).is("accepted");
      check(`${sub} after the network is removed`, await exists()).is("absent");
      check(
        `${link.parent} (made before, not by the engine) after`,
        derive(await lab.host.run(["ip", "-o", "link", "show", link.parent]), (o) => o.code),
      ).is(0);
    },
  }),

  scenario({
    id: "MV-03",
    title: "A macvlan network with no parent gets a dummy link: its containers reach each other and nothing else",
    area: "macvlan",
    doc: `${MACVLAN_DOC} › (no parent: an internal network on a dummy link)`,
    requires: [macvlanKernel, needs.kernel("dummy", "with no parent, the engine makes a dummy link")],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check, since }) {
      const net = await lab.network("island", { driver: "macvlan", subnet: "10.217.70.0/24" });
      const a = await lab.probe("a").on(net).start();
      const b = await lab.probe("b").on(net).start();
      check(
        `ping ${a.name} from ${b.name}`,
        derive(await b.ping(a.name), (p) => p.outcome),
      ).is("reached");
      // An address beyond the network (docknet's own outside-host range) is never reached.
      check(
        "ping 10.213.255.2 (beyond the network)",
        derive(await b.ping("10.213.255.2"), (p) => p.outcome),
      ).is(beyondTheNetwork(since));
    },
  }),
];
