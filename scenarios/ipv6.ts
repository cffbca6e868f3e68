import { derive } from "../harness/evidence.js";
import { scenario } from "../harness/scenario.js";

export default [
  scenario({
    id: "V6-02",
    title: "On a user-defined network with IPv6, containers resolve each other to IPv6 addresses and reach them",
    area: "ipv6",
    doc: "Use IPv6 networking › Create an IPv6 network",
    async run({ lab, check }) {
      const net = await lab.network("v6", { ipv6Subnet: "pick" });
      const peer = await lab.probe("peer").on(net).start();
      const client = await lab.probe("client").on(net).start();
      const ipv6 = await peer.interfaces();
      const global = check("the peer's global IPv6 address", derive(ipv6, (all) => all.find((i) => i.name === "eth0")?.ipv6.find((a) => !a.startsWith("fe80")) ?? "")).matches(/^fd0d:/);
      check(`AAAA for ${peer.name} from the embedded DNS`, await client.addressesOf(peer.name, "aaaa")).is([global.split("/")[0]!]);
      check(`ping -6 ${peer.name}`, derive(await client.ping(peer.name, "ipv6"), (p) => p.outcome)).is("reached");
    },
  }),
];
