import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";
import { defaultBridgePair } from "./topologies.js";

const DOC = "Host network driver";

export default [
  scenario({
    id: "HOST-01",
    title: "--network host shares the host's network namespace and creates no interface",
    area: "host",
    doc: DOC,
    requires: [needs.hostNetwork, needs.defaultBridge],
    brokenBy: "host-network-is-default-bridge",
    async run({ lab, check }) {
      const first = await lab.probe("first").on(lab.hostNetwork).start();
      const second = await lab.probe("second").on(lab.hostNetwork).start();
      const { client: bridged } = await lab.shared(defaultBridgePair);
      const ns = await first.netns();
      check("the second host container's namespace", await second.netns()).is(ns.value);
      check("a bridged container's namespace", await bridged.netns()).isNot(ns.value);
      const bridgeName =
        (await lab.inspectNetwork(lab.defaultBridge)).value.options["com.docker.network.bridge.name"] ?? "docker0";
      check("interfaces seen from the host container", await first.interfaceNames()).includes(bridgeName);
    },
  }),

  scenario({
    id: "HOST-02",
    title: "Published ports are discarded in host mode",
    area: "host",
    doc: `${DOC} ("Published ports are discarded when using host network mode")`,
    requires: [needs.hostNetwork],
    brokenBy: "host-network-is-default-bridge",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      const attempt = await lab.probe("onhost").on(lab.hostNetwork).publish(80, port).attempt();
      check(
        "docker run --network host -p",
        derive(attempt, (a) => a.started),
      ).is(true);
      check(
        "port bindings of the host container",
        derive(await lab.inspect(lab.name("onhost")), (f) => f.ports),
      ).is({});
    },
  }),

  scenario({
    id: "HOST-03",
    title: "A host-mode server on port N answers on the host's addresses, to containers and to the host",
    area: "host",
    doc: DOC,
    requires: [needs.hostNetwork, needs.defaultBridge],
    brokenBy: "host-network-is-default-bridge",
    async run({ lab, check }) {
      const port = await lab.hostPort();
      await lab.probe("server").on(lab.hostNetwork).serving(port).start();
      const local = await lab.probe("local").on(lab.hostNetwork).start();
      check(`127.0.0.1:${port} from another host container`, await local.request("127.0.0.1", port)).is("HTTP 404");
      const bridged = await lab.probe("bridged").start();
      const gateway = check(
        "the default bridge's gateway (a host address)",
        await lab.gatewayOn(bridged, lab.defaultBridge),
      ).matches(IPV4_ADDRESS);
      check(`the host address ${gateway}:${port} from a bridged container`, await bridged.request(gateway, port)).is(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "HOST-04",
    title: "In host mode, --dns and --add-host still land in the container's resolv.conf and /etc/hosts",
    area: "host",
    doc: "moby TestRunDNSInHostMode, TestRunAddHostInHostMode",
    requires: [needs.hostNetwork],
    brokenBy: "extra-hosts-dropped",
    async run({ lab, check }) {
      const c = await lab.probe("c").on(lab.hostNetwork).dns("192.0.2.53").addHost("extra.test", "192.0.2.10").start();
      check(
        "nameservers",
        derive(await c.resolvConf(), (conf) => conf.nameservers),
      ).is(["192.0.2.53"]);
      check("extra.test in /etc/hosts", await c.hostsAddressesOf("extra.test")).is(["192.0.2.10"]);
    },
  }),

  scenario({
    id: "HOST-05",
    title: "--network container:<id> shares that container's namespace, down to its loopback",
    area: "host",
    doc: "Networking overview › Container networks",
    brokenBy: "servers-down",
    async run({ lab, check }) {
      const owner = await lab.probe("owner").serving(8080).start();
      const guest = await lab.probe("guest").on(lab.networkOf(owner)).start();
      check("the guest's namespace", await guest.netns()).is((await owner.netns()).value);
      check("127.0.0.1:8080 from the guest", await guest.request("127.0.0.1", 8080)).is("HTTP 404");
      const conflicting = await lab.probe("conflict").on(lab.networkOf(owner)).dns("192.0.2.53").attempt();
      check(
        "--network container: together with --dns",
        derive(conflicting, (a) => a.message),
      ).matches(/conflicting options/i);
    },
  }),

  scenario({
    id: "HOST-06",
    title:
      "Through host-gateway a container reaches a host service listening on every address, never one bound to 127.0.0.1",
    area: "host",
    doc: "Networking overview › Custom hosts (host-gateway); docker run reference › --add-host",
    requires: [needs.hostNetwork, needs.engineAtLeast("20.10", "host-gateway arrived in 20.10")],
    brokenBy: "extra-hosts-dropped",
    async run({ lab, check }) {
      const [everywhere, loopback] = (await lab.hostPorts(2)) as [number, number];
      // Services of the engine's host: a process in its network namespace (a host-network container).
      const host = await lab.probe("services").on(lab.hostNetwork).start();
      check(`httpd -p ${everywhere} on the engine's host`, await host.serve(everywhere)).is(true);
      check(`httpd -p 127.0.0.1:${loopback} on the engine's host`, await host.serve(loopback, "127.0.0.1")).is(true);
      // Control: the loopback service answers on the host itself.
      check(`127.0.0.1:${loopback} from the engine's host`, await host.request("127.0.0.1", loopback)).is("HTTP 404");
      const client = await lab.probe("client").addHost("thehost", "host-gateway").start();
      check(`thehost:${everywhere} from a container`, await client.request("thehost", everywhere)).is("HTTP 404");
      check(`thehost:${loopback} from a container`, await client.request("thehost", loopback, 2)).isNot("HTTP 404");
    },
  }),
];
