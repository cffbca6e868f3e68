import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { parseInterfaces } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";
import { beyondTheNetwork } from "./no-parent.js";

/**
 * ipvlan: like macvlan, containers sit on the parent's LAN, but they share
 * the parent's MAC address; in L3 mode the parent routes instead of bridging.
 * The LAN is a link docknet makes between the engine's host and its outside
 * host. Kernels without CONFIG_IPVLAN skip these, saying so.
 */

const IPVLAN_DOC = "Network drivers › IPvlan network driver";
const ipvlanKernel = needs.kernel("ipvlan", "ipvlan networks need the ipvlan module");
const onLan = [needs.outsideHost, ipvlanKernel];

export default [
  scenario({
    id: "IV-01",
    title:
      "ipvlan containers share the parent's MAC address, and a parent already used by an ipvlan network is refused to another",
    area: "ipvlan",
    doc: `${IPVLAN_DOC} › Options (ipvlan_mode defaults to l2)`,
    requires: onLan,
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const { link, network: net } = await lab.outside.lan("l2", "ipvlan");
      const box = await lab.probe("box").on(net).start();
      // Over netlink (ip link), not sysfs: /sys shows the namespace it was mounted in, not the one entered.
      const parentMac = derive(
        await lab.host.run(["ip", "-o", "link", "show", link.parent]),
        (o) => parseInterfaces(o.stdout, "")[0]?.mac ?? "none",
      );
      const boxMac = derive(await box.interfaces(), (list) => list.find((i) => i.name === "eth0")?.mac ?? "none");
      check(`${box.name}'s eth0 MAC`, boxMac).is(parentMac.value);
      const second = await lab.attemptNetwork("second", {
        driver: "ipvlan",
        subnet: "10.217.80.0/24",
        options: { parent: link.parent },
      });
      check(
        `a second ipvlan network on ${link.parent}`,
        derive(second, (s) => s.outcome),
      ).isNot("accepted");
    },
  }),

  scenario({
    id: "IV-02",
    title: "An ipvlan network with no parent gets a dummy link: its containers reach each other and nothing else",
    area: "ipvlan",
    doc: `${IPVLAN_DOC} › (no parent: an internal network)`,
    requires: [ipvlanKernel, needs.kernel("dummy", "with no parent, the engine makes a dummy link")],
    brokenBy: "user-network-is-default-bridge",
    async run({ lab, check, since }) {
      const net = await lab.network("island", { driver: "ipvlan", subnet: "10.217.81.0/24" });
      const a = await lab.probe("a").on(net).start();
      const b = await lab.probe("b").on(net).start();
      check(
        `ping ${a.name} from ${b.name}`,
        derive(await b.ping(a.name), (p) => p.outcome),
      ).is("reached");
      check(
        "ping 10.213.255.2 (beyond the network)",
        derive(await b.ping("10.213.255.2"), (p) => p.outcome),
      ).is(beyondTheNetwork(since));
    },
  }),

  scenario({
    id: "IV-03",
    title: "ipvlan L2: the default route goes via the gateway given, and the outside host on the LAN answers",
    area: "ipvlan",
    doc: `${IPVLAN_DOC} › IPvlan L2 mode example usage`,
    requires: onLan,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check }) {
      const { link, network: net } = await lab.outside.lan("l2", "ipvlan", { ipvlan_mode: "l2" });
      const box = await lab.probe("box").on(net).start();
      check(`${box.name}'s default route`, await box.defaultGateway()).is(link.outsideAddress);
      check(
        `ping the outside host ${link.outsideAddress}`,
        derive(await box.ping(link.outsideAddress), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "IV-04",
    title:
      "ipvlan L3: the default route is the interface itself (any gateway is ignored), and subnets of one network reach each other",
    area: "ipvlan",
    doc: `${IPVLAN_DOC} › IPvlan L3 mode example usage`,
    requires: onLan,
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const link = await lab.outside.link();
      const net = await lab.network("l3", {
        driver: "ipvlan",
        subnet: "10.217.90.0/24",
        moreSubnets: ["10.217.91.0/24"],
        options: { parent: link.parent, ipvlan_mode: "l3" },
      });
      const a = await lab.probe("a").on(net, { ip: "10.217.90.10" }).start();
      const b = await lab.probe("b").on(net, { ip: "10.217.91.10" }).start();
      check(
        `${a.name}'s default route`,
        derive(await a.routes(), (r) => r.find((x) => x.destination === "default")),
      ).satisfies("default dev eth0, no gateway", (route) => route?.dev === "eth0" && route.via === undefined);
      check(
        "ping 10.217.91.10 from 10.217.90.10 (another subnet)",
        derive(await a.ping("10.217.91.10"), (p) => p.outcome),
      ).is("reached");
      check(
        `ping ${a.name} from ${b.name}`,
        derive(await b.ping("10.217.90.10"), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "IV-05",
    title: "ipvlan L2: containers cannot reach their parent's own addresses, while the LAN can",
    area: "ipvlan",
    doc: `${IPVLAN_DOC} › (the parent does not talk to its children)`,
    requires: onLan,
    brokenBy: "macvlan-parent-wrong",
    async run({ lab, check }) {
      const { link, network: net } = await lab.outside.lan("l2", "ipvlan");
      const box = await lab.probe("box").on(net).start();
      const hostAddress = link.subnet.replace(/0\/24$/, "254");
      check(
        `ip addr add ${hostAddress}/24 dev ${link.parent}`,
        derive(await lab.host.run(["ip", "addr", "add", `${hostAddress}/24`, "dev", link.parent]), (o) => o.code),
      ).is(0);
      check(
        `ping the outside host ${link.outsideAddress} (control)`,
        derive(await box.ping(link.outsideAddress), (p) => p.outcome),
      ).is("reached");
      check(
        `ping the parent's address ${hostAddress}`,
        derive(await box.ping(hostAddress), (p) => p.outcome),
      ).is("no reply");
    },
  }),
];
