import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";

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
      const net = await lab.network("app");
      const db = await lab.probe("db").on(net).serving(5432).serving(6379).start();
      const web = await lab.probe("web").on(net).start();
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
      const net = await lab.network("app");
      const c = await lab.probe("c").on(net).start();
      const gateway = check("the container's default gateway", await c.defaultGateway()).matches(IPV4_ADDRESS);
      const bridge = `br-${net.id.slice(0, 12)}`;
      check(
        `the addresses of ${bridge} on the engine's host`,
        await (await lab.hostObserver()).ipv4AddressesOf(bridge),
      ).includes(gateway);
    },
  }),
];
