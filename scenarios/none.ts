import { derive } from "../harness/evidence.js";
import { scenario } from "../harness/scenario.js";

export default [
  scenario({
    id: "NONE-01",
    title: "--network none leaves only the loopback interface and no route",
    area: "none",
    doc: "None network driver",
    brokenBy: "none-network-is-default-bridge",
    async run({ lab, check }) {
      const c = await lab.probe("c").on(lab.noNetwork).start();
      const interfaces = await c.interfaces();
      check(
        "interfaces",
        derive(interfaces, (all) => all.map((i) => i.name)),
      ).is(["lo"]);
      check(
        "lo's IPv4 address",
        derive(interfaces, (all) => all[0]?.ipv4 ?? []),
      ).is(["127.0.0.1/8"]);
      check(
        "routes",
        derive(await c.routes(), (routes) => routes.map((r) => r.destination)),
      ).is([]);
    },
  }),
];
