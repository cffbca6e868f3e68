import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { AFTER_CONTROL_SECONDS } from "../harness/lab/probe.js";
import { scenario } from "../harness/scenario.js";

/**
 * The engine host's firewall, changed as an administrator or another tool
 * would, and published ports seen from the outside host. Only on docknet's
 * private engines: docknet never touches the firewall of a host it did not make.
 */

const DOC = "Packet filtering and firewalls";
const onOwnHost = [needs.engineNamespace, needs.outsideHost];
/** A DROP of TCP from `source` to a published port, matched on the port before DNAT (conntrack's original). */
const dropByOriginalPort = (source: string, port: number) => [
  "-s",
  source,
  "-p",
  "tcp",
  "-m",
  "conntrack",
  "--ctorigdstport",
  String(port),
  "-j",
  "DROP",
];
const forwardRules = (rules: readonly string[]) => rules.filter((rule) => rule.startsWith("-A FORWARD "));

export default [
  scenario({
    id: "FW-02",
    title:
      "FORWARD sends packets to DOCKER-USER first: a DROP there closes a published port, and a daemon restart neither flushes the rule nor moves the jump",
    area: "firewall",
    doc: `${DOC} › Add iptables policies before Docker's rules (DOCKER-USER); Docker with iptables; moby TestFirewallBackendSwitch`,
    requires: onOwnHost,
    // The restart would stop every other scenario's containers; FORWARD is read whole.
    ownEngine: true,
    exclusive: true,
    brokenBy: "user-rules-in-forward",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const port = await lab.hostPort();
      // --restart always: web is back after the daemon restart, for the claim after it.
      await lab.probe("web").serving(80).publish(80, port).restartPolicy("always").start();
      const outside = lab.outside.host();
      const target = `${outsideHost.engineAddress}:${port}`;
      const firstForwardRule = async () =>
        derive(await lab.host.firewall("filter"), (r) => forwardRules(r.rules)[0] ?? "");
      check("FORWARD's first rule", await firstForwardRule()).is("-A FORWARD -j DOCKER-USER");
      check(`control: ${target} from the outside host`, await outside.request(outsideHost.engineAddress, port)).is(
        "HTTP 404",
      );
      const drop = dropByOriginalPort(outsideHost.address, port);
      check(`iptables -I DOCKER-USER ${drop.join(" ")}`, await lab.host.addFirewallRule("DOCKER-USER", drop)).is(
        "accepted",
      );
      check(
        `${target} from the outside host, with the DROP in DOCKER-USER`,
        await outside.request(outsideHost.engineAddress, port, 2),
      ).isNot("HTTP 404");
      check("restart dockerd", await lab.restartEngine({ ...engine.daemonConfig })).is("accepted");
      check("FORWARD's first rule after the restart", await firstForwardRule()).is("-A FORWARD -j DOCKER-USER");
      check(
        "DOCKER-USER's rules after the restart",
        derive(await lab.host.firewall("filter"), (r) => r.rules.filter((rule) => rule.startsWith("-A DOCKER-USER "))),
      ).satisfies("the DROP still there", (rules) => rules.some((rule) => rule.includes(`--ctorigdstport ${port}`)));
      // web is back (its restart policy), and answers the engine's host, which the DROP does not name.
      check(
        `control: ${target} from the engine's host after the restart`,
        await lab.eventually(
          async () => (await lab.hostObserver()).request(outsideHost.engineAddress, port),
          (answer) => answer === "HTTP 404",
        ),
      ).is("HTTP 404");
      check(
        `${target} from the outside host after the restart`,
        await outside.request(outsideHost.engineAddress, port, AFTER_CONTROL_SECONDS),
      ).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "FW-03",
    title:
      "DOCKER-USER restricts published ports, but only a match on the original destination port (conntrack) sees the port that was published",
    area: "firewall",
    doc: `${DOC} › Restrict external connections to containers (match the original IP and ports)`,
    requires: onOwnHost,
    brokenBy: "publish-dropped",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const port = await lab.hostPort();
      await lab.probe("web").serving(80).publish(80, port).start();
      const outside = lab.outside.host();
      const target = `${outsideHost.engineAddress}:${port}`;
      check(`control: ${target} from the outside host`, await outside.request(outsideHost.engineAddress, port)).is(
        "HTTP 404",
      );
      // DOCKER-USER sees packets after DNAT: the destination port is already the container's.
      const byPort = ["-s", outsideHost.address, "-p", "tcp", "--dport", String(port), "-j", "DROP"];
      check(`iptables -I DOCKER-USER ${byPort.join(" ")}`, await lab.host.addFirewallRule("DOCKER-USER", byPort)).is(
        "accepted",
      );
      check(
        `${target} from the outside host, with a DROP on --dport ${port}`,
        await outside.request(outsideHost.engineAddress, port),
      ).is("HTTP 404");
      const byOrigin = dropByOriginalPort(outsideHost.address, port);
      check(
        `iptables -I DOCKER-USER ${byOrigin.join(" ")}`,
        await lab.host.addFirewallRule("DOCKER-USER", byOrigin),
      ).is("accepted");
      check(
        `${target} from the outside host, with a DROP on --ctorigdstport ${port}`,
        // DOCKER-USER's jump is lifted for a moment at each network create before 28 (lab.steadyFirewall).
        await lab.steadyFirewall(() => outside.request(outsideHost.engineAddress, port, 2)),
      ).isNot("HTTP 404");
    },
  }),

  scenario({
    id: "FW-04",
    title: "A DROP that another tool appends to FORWARD does not break published ports: Docker's rules come first",
    area: "firewall",
    doc: `${DOC} › Docker on a router (rules of other tools)`,
    requires: onOwnHost,
    // The appended rule is the engine's whole FORWARD chain: nothing else may run meanwhile.
    exclusive: true,
    brokenBy: "firewall-rules-first",
    async run({ lab, check, engine }) {
      const outsideHost = engine.outsideHost!;
      const port = await lab.hostPort();
      await lab.probe("web").serving(80).publish(80, port).start();
      check(
        "iptables -A FORWARD -j DROP",
        await lab.host.addFirewallRule("FORWARD", ["-j", "DROP"], { append: true }),
      ).is("accepted");
      check(
        `${outsideHost.engineAddress}:${port} from the outside host`,
        await lab.outside.host().request(outsideHost.engineAddress, port),
      ).is("HTTP 404");
    },
  }),

  scenario({
    id: "FW-05",
    title:
      "With FORWARD policy ACCEPT, a neighbour routing straight to a container reaches none of its ports from 28.0 (all of them before)",
    area: "firewall",
    doc: `${DOC} › Direct routing (Engine 28.0 release notes)`,
    requires: onOwnHost,
    // The FORWARD policy is the engine host's: nothing else may run meanwhile.
    exclusive: true,
    brokenBy: "publish-dropped",
    async run({ lab, check, since, engine }) {
      // The outside host routes docknet's lab subnets (10.213.0.0/16) to the engine's host, as a LAN router might.
      const net = await lab.network("routed", { subnet: "pick" });
      const port = await lab.hostPort();
      const web = await lab.probe("web").on(net).serving(80).serving(8080).publish(80, port).start();
      const ip = (await lab.addressOn(web, net)).value;
      const outside = lab.outside.host();
      // Hosts often run with FORWARD ACCEPT (another tool set it, or Docker found it so).
      check("iptables -P FORWARD ACCEPT", await lab.host.setChainPolicy("FORWARD", "ACCEPT")).is("accepted");
      check(
        `control: ${engine.outsideHost!.engineAddress}:${port} (published) from the outside host`,
        await outside.request(engine.outsideHost!.engineAddress, port),
      ).is("HTTP 404");
      const published = await outside.request(ip, 80, 2);
      const unpublished = await outside.request(ip, 8080, 2);
      if (
        since(
          "28.0",
          "Engine 28.0 release notes: packets routed straight to a container's address are dropped in gateway mode nat",
        )
      ) {
        check(`${ip}:80 (published, but reached straight at the container) from the outside host`, published).isNot(
          "HTTP 404",
        );
        check(`${ip}:8080 (not published) from the outside host`, unpublished).isNot("HTTP 404");
      } else {
        check(`${ip}:80 (published) straight at the container from the outside host: open before 28.0`, published).is(
          "HTTP 404",
        );
        check(`${ip}:8080 (not published) from the outside host: open before 28.0`, unpublished).is("HTTP 404");
      }
    },
  }),

  scenario({
    id: "FW-09",
    title:
      "A host firewall that closes a port in INPUT (a DROP as ufw adds, or firewalld's zone) does not close that port when Docker publishes it: published traffic is forwarded, never seen by INPUT",
    area: "firewall",
    doc: `${DOC} › Docker and ufw; moby#22054, moby#4737`,
    requires: onOwnHost,
    // The rule is on the engine host's INPUT chain: nothing else may run meanwhile.
    exclusive: true,
    brokenBy: "publish-dropped",
    async run({ lab, check, engine }) {
      const { engineAddress } = engine.outsideHost!;
      const [published, onHost] = (await lab.hostPorts(2)) as [number, number];
      await lab.probe("web").serving(80).publish(80, published).start();
      // A service of the host itself, which INPUT does guard.
      const host = await lab.probe("host-service").on(lab.hostNetwork).start();
      check(`httpd -p ${onHost} on the engine's host`, await host.serve(onHost)).is(true);
      const outside = lab.outside.host();
      const firewalld = engine.profile.firewall.includes("firewalld");
      if (firewalld) {
        // firewalld is the host firewall already: its zone rejects the host's own service from outside.
        check(
          `control: 127.0.0.1:${onHost} on the engine's host`,
          await (await lab.hostObserver()).request("127.0.0.1", onHost),
        ).is("HTTP 404");
      } else {
        check(
          `control: ${engineAddress}:${onHost} from the outside host, before the rule`,
          await outside.request(engineAddress, onHost),
        ).is("HTTP 404");
        check(
          `iptables -I INPUT -p tcp -m multiport --dports ${published},${onHost} -j DROP`,
          await lab.host.addFirewallRule("INPUT", [
            "-p",
            "tcp",
            "-m",
            "multiport",
            "--dports",
            `${published},${onHost}`,
            "-j",
            "DROP",
          ]),
        ).is("accepted");
      }
      check(
        `${engineAddress}:${onHost} from the outside host (the host's own service${firewalld ? ", firewalld's zone" : ""})`,
        await outside.request(engineAddress, onHost, 2),
      ).isNot("HTTP 404");
      check(
        `${engineAddress}:${published} from the outside host (published by Docker)`,
        await outside.request(engineAddress, published),
      ).is("HTTP 404");
    },
  }),

  scenario({
    id: "FW-06",
    title:
      "firewall-backend nftables: docker info says so, the rules live in nftables' docker-bridges table (none in iptables), published ports and isolation hold; back on iptables the table is gone",
    area: "firewall",
    doc: "Docker with nftables; Engine 29.0 release notes; moby TestFirewallBackendSwitch, TestInfoFirewallBackend",
    daemon: { "firewall-backend": "nftables" },
    // It restarts the engine on the iptables backend at the end.
    exclusive: true,
    requires: [
      ...onOwnHost,
      needs.hostNetwork,
      needs.engineAtLeast("29.0", "the nftables firewall backend arrived, experimental, in Engine 29.0"),
    ],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check, engine, skip }) {
      check("the firewall backend docker info reports", await lab.firewallBackend()).is("nftables");
      const table = await lab.host.nftTable("ip", "docker-bridges");
      if (table.value.startsWith("nft failed")) skip(`the engine's host cannot list nftables: ${table.value}`);
      check("nftables table ip docker-bridges", table).is("present");
      const [a, b] = await Promise.all([lab.network("a", { subnet: "pick" }), lab.network("b", { subnet: "pick" })]);
      const bridges = [a, b].map((n) => `br-${n.id.slice(0, 12)}`);
      check(
        "iptables filter rules naming the networks' bridges",
        derive(await lab.host.firewall("filter"), (r) =>
          r.rules.filter((rule) => bridges.some((x) => rule.includes(x))),
        ),
      ).is([]);
      const port = await lab.hostPort();
      const [web, neighbour, stranger] = await Promise.all([
        lab.probe("web").on(b).serving(80).publish(80, port).start(),
        lab.probe("neighbour").on(b).start(),
        lab.probe("stranger").on(a).start(),
      ]);
      const ip = check("web's address", await lab.addressOn(web, b)).matches(IPV4_ADDRESS);
      const outsideHost = engine.outsideHost!;
      check(
        `${outsideHost.engineAddress}:${port} (published) from the outside host`,
        await lab.outside.host().request(outsideHost.engineAddress, port),
      ).is("HTTP 404");
      check(`control: ${ip}:80 from web's own network`, await neighbour.request(ip, 80)).is("HTTP 404");
      check(`${ip}:80 from another network`, await stranger.request(ip, 80, AFTER_CONTROL_SECONDS)).isNot("HTTP 404");
      check(
        "restart dockerd with firewall-backend iptables",
        await lab.restartEngine({ ...engine.daemonConfig, "firewall-backend": "iptables" }),
      ).is("accepted");
      check("the firewall backend docker info reports after the switch", await lab.firewallBackend()).is("iptables");
      check("nftables table ip docker-bridges after the switch", await lab.host.nftTable("ip", "docker-bridges")).is(
        "absent",
      );
    },
  }),

  scenario({
    id: "FW-08",
    title:
      "Under firewalld, Docker's bridges sit in the docker zone; after firewall-cmd --reload they are back there and published ports answer, and from 28.1 a removed network's bridge and rules do not come back",
    area: "firewall",
    doc: `${DOC} › Integration with firewalld; moby TestFirewalldReloadNoZombies`,
    requires: [needs.firewalld, ...onOwnHost],
    // A reload is the whole host's firewall anew, and dockerd 28.5 deadlocks when one arrives while
    // another network is being made (moby#50619, seen here: every later network call hung).
    exclusive: true,
    brokenBy: "bridges-outside-firewalld-zone",
    async run({ lab, check, engine, since }) {
      // Before 28.1 dockerd's reload callbacks outlived their networks: a removed network came back.
      const noZombies = since("28.1", "moby#49728: a firewalld reload no longer restores a deleted network's rules");
      const outsideHost = engine.outsideHost!;
      const [net, gone] = await Promise.all([lab.network("app"), lab.network("gone")]);
      const bridge = `br-${net.id.slice(0, 12)}`;
      const goneBridge = `br-${gone.id.slice(0, 12)}`;
      const port = await lab.hostPort();
      await lab.probe("web").on(net).serving(80).publish(80, port).start();
      const outside = lab.outside.host();
      const published = () => outside.request(outsideHost.engineAddress, port);
      check(`the firewalld zone of ${bridge}`, await lab.host.zoneOfInterface(bridge)).is("docker");
      check(`the firewalld zone of ${goneBridge}`, await lab.host.zoneOfInterface(goneBridge)).is("docker");
      check(`control: ${outsideHost.engineAddress}:${port} from the outside host`, await published()).is("HTTP 404");
      check(`docker network rm ${gone.name}`, await lab.removeNetwork(gone)).is("accepted");
      check("firewall-cmd --reload", await lab.host.reloadFirewalld()).is("accepted");
      // dockerd hears firewalld's Reloaded signal and puts its bridges back: give it a moment.
      check(
        `the firewalld zone of ${bridge} after the reload`,
        await lab.eventually(
          () => lab.host.zoneOfInterface(bridge),
          (zone) => zone === "docker",
          5_000,
        ),
      ).is("docker");
      check(`${outsideHost.engineAddress}:${port} from the outside host after the reload`, await published()).is(
        "HTTP 404",
      );
      check(`the docker zone's interfaces after the reload`, await lab.host.zoneInterfaces("docker")).satisfies(
        `${bridge}, and ${noZombies ? "not " : ""}${goneBridge}`,
        (names) => names.includes(bridge) && names.includes(goneBridge) === !noZombies,
      );
      check(
        `iptables rules naming ${goneBridge} after the reload`,
        derive(await lab.host.firewall("filter"), (rules) => rules.rules.filter((r) => r.includes(goneBridge)).length),
      ).satisfies(noZombies ? "none" : "some (the deleted network's rules restored)", (n) => (n === 0) === noZombies);
    },
  }),
];
