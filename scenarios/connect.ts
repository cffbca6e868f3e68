import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { ipv4InSubnet } from "../harness/cidr.js";
import { scenario } from "../harness/scenario.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { userBridgePair } from "./topologies.js";

const DOC = "Bridge network driver › Connect a container to a user-defined bridge";

export default [
  scenario({
    id: "CD-01",
    title: "network connect adds an interface at once; disconnect removes it and nothing else",
    area: "connect",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: DOC,
    brokenBy: "detach-after-start",
    async run({ lab, check }) {
      // Its home is the shared user bridge; the container and the network it joins are its own.
      const { net: home } = await lab.shared(userBridgePair);
      const extra = await lab.network("extra", { subnet: "pick" });
      const c = await lab.probe("c").on(home).start();
      check("interfaces before connecting", await c.interfaceNames()).is(["lo", "eth0"]);
      check("docker network connect", await lab.connect(c, extra)).is("accepted");
      const joined = await c.interfaces();
      check(
        "eth1's address after connecting",
        derive(joined, (all) => all.find((i) => i.name === "eth1")?.ipv4 ?? []),
      ).satisfies(`one address in ${extra.subnet}`, (a) => a.length === 1 && ipv4InSubnet(a[0]!, extra.subnet ?? ""));
      check("docker network disconnect", await lab.disconnect(c, extra)).is("accepted");
      check("interfaces after disconnecting", await c.interfaceNames()).is(["lo", "eth0"]);
    },
  }),

  scenario({
    id: "CD-02",
    title:
      "connect and disconnect on a container that was created but never started are kept across a daemon restart and applied when it starts",
    area: "connect",
    doc: "docker network connect reference (a stopped container); moby TestDockerNetworkConnectDisconnectToStoppedContainer",
    // The restart would stop every other scenario's containers: it gets an engine of its own.
    ownEngine: true,
    exclusive: true,
    requires: [needs.engineNamespace],
    brokenBy: "stopped-connect-dropped",
    async run({ lab, check, engine }) {
      const [first, second] = await Promise.all([lab.network("one"), lab.network("two")]);
      const created = await lab.probe("c").on(first).create();
      check("docker create on the first network", created).is("accepted");
      const c = created.probe!;
      const networks = async () => derive(await lab.inspect(c), (f) => Object.keys(f.networks).sort());
      check("connect the created container to the second network", await lab.connect(c, second)).is("accepted");
      check("disconnect it from the first network", await lab.disconnect(c, first)).is("accepted");
      check("its networks before the restart", await networks()).is([second.name]);
      check("restart dockerd", await lab.restartEngine({ ...engine.daemonConfig })).is("accepted");
      check("its networks after the restart", await networks()).is([second.name]);
      check("docker start", await lab.start(c)).is("accepted");
      const ip = check(
        "its address on the second network once started",
        derive(await lab.inspect(c), (f) => f.networks[second.name]?.ip ?? ""),
      ).matches(IPV4_ADDRESS);
      check("its interfaces", await c.interfaceNames()).is(["lo", "eth0"]);
      const peer = await lab.probe("peer").on(second).start();
      check(
        `ping ${ip} from a peer on the second network`,
        derive(await peer.ping(ip), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "CD-03",
    title: "connect --ip sets the address, which survives a restart; an address outside every subnet is refused",
    area: "connect",
    // Holds for any network driver: `docknet run --driver NAME` runs it on that driver.
    tags: ["driver-generic"],
    doc: "docker network connect reference › --ip",
    brokenBy: "network-options-ignored",
    async run({ lab, check }) {
      const net = await lab.network("static", { subnet: "pick" });
      const wanted = (net.subnet ?? "").replace(/\.0\/24$/, ".50");
      const c = await lab.probe("c").on(lab.defaultBridge).start();
      check(`docker network connect --ip ${wanted}`, await lab.connect(c, net, { ip: wanted })).is("accepted");
      const eth1 = (all: { name: string; ipv4: string[] }[]) =>
        all.find((i) => i.ipv4.some((a) => a.startsWith(`${wanted}/`)))?.ipv4 ?? [];
      check("the chosen address inside the container", derive(await c.interfaces(), eth1)).satisfies(
        `${wanted}`,
        (a) => a.length === 1,
      );
      check("docker restart", await lab.restart(c)).is("accepted");
      check(
        "the chosen address after a restart",
        derive(await lab.inspect(c), (f) => f.networks[net.name]?.ip),
      ).is(wanted);
      const other = await lab.probe("other").start();
      const outside = await lab.connect(other, net, { ip: "192.0.2.50" });
      check("connect --ip 192.0.2.50 (outside the subnet)", outside).isNot("accepted");
    },
  }),

  scenario({
    id: "CD-04",
    title: "Nothing joins or leaves the host network at runtime, and host or none containers join no bridge",
    area: "connect",
    doc: "Networking overview; moby TestDockerNetworkConnectToHostFromOtherNetwork",
    requires: [needs.hostNetwork],
    brokenBy: "host-network-is-default-bridge",
    async run({ lab, check }) {
      const net = await lab.network("user");
      const bridged = await lab.probe("bridged").on(net).start();
      const onHost = await lab.probe("onhost").on(lab.hostNetwork).start();
      const isolated = await lab.probe("isolated").on(lab.noNetwork).start();
      check("connect a bridged container to host", await lab.connect(bridged, lab.hostNetwork)).isNot("accepted");
      check("disconnect a host container from host", await lab.disconnect(onHost, lab.hostNetwork)).isNot("accepted");
      check("connect a host container to a user network", await lab.connect(onHost, net)).isNot("accepted");
      check("connect a none container to a user network", await lab.connect(isolated, net)).isNot("accepted");
    },
  }),

  scenario({
    id: "CD-05",
    title: "Connecting and disconnecting networks leaves published ports unchanged",
    area: "connect",
    doc: "moby TestDockerNetworkConnectDisconnectWithPortMapping",
    brokenBy: "publish-dropped",
    async run({ lab, check }) {
      const net = await lab.network("extra");
      const port = await lab.hostPort();
      const c = await lab.probe("c").serving(70).publish(70, port).publish(90, "").start();
      const before = await lab.inspect(c);
      check(
        "port 70 before",
        derive(before, (f) => f.ports["70/tcp"] ?? []),
      ).includes(`0.0.0.0:${port}`);
      check(
        "port 90 before",
        derive(before, (f) => f.ports["90/tcp"] ?? []),
      ).satisfies("bound to an ephemeral port", (b) => b.length > 0);
      check("connect another network", await lab.connect(c, net)).is("accepted");
      check(
        "ports after connecting another network",
        derive(await lab.inspect(c), (f) => f.ports),
      ).is(before.value.ports);
      check("disconnect it", await lab.disconnect(c, net)).is("accepted");
      check(
        "ports after disconnecting it",
        derive(await lab.inspect(c), (f) => f.ports),
      ).is(before.value.ports);
    },
  }),
];
