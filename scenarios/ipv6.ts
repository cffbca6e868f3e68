import { needs } from "../harness/capabilities.js";
import { addressInSubnet } from "../harness/cidr.js";
import { OUTSIDE_ZONE_NAME } from "../harness/engine/dns-stub.js";
import { derive } from "../harness/evidence.js";
import { scenario } from "../harness/scenario.js";

export default [
  scenario({
    id: "V6-02",
    title: "On a user-defined network with IPv6, containers resolve each other to IPv6 addresses and reach them",
    area: "ipv6",
    doc: "Use IPv6 networking › Create an IPv6 network",
    brokenBy: "ipv6-disabled-in-containers",
    async run({ lab, check }) {
      const net = await lab.network("v6", { ipv6Subnet: "pick" });
      const peer = await lab.probe("peer").on(net).start();
      const client = await lab.probe("client").on(net).start();
      const ipv6 = await peer.interfaces();
      const global = check(
        "the peer's global IPv6 address",
        derive(ipv6, (all) => all.find((i) => i.name === "eth0")?.ipv6.find((a) => !a.startsWith("fe80")) ?? ""),
      ).matches(/^fd0d:/);
      check(`AAAA for ${peer.name} from the embedded DNS`, await client.addressesOf(peer.name, "aaaa")).is([
        global.split("/")[0]!,
      ]);
      check(
        `ping -6 ${peer.name}`,
        derive(await client.ping(peer.name, "ipv6"), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "V6-11",
    title:
      "--ip6 on a user-defined dual-stack bridge: the container keeps the IPv6 address asked for, and peers resolve and reach it there",
    area: "ipv6",
    doc: "docker run reference › --ip6; Use IPv6 networking",
    brokenBy: "ipv6-disabled-in-containers",
    async run({ lab, check }) {
      const net = await lab.network("v6", { ipv6Subnet: "pick" });
      const subnet = check(
        "the network's IPv6 subnet",
        derive(await lab.inspectNetwork(net), (n) => n.subnets.find((s) => s.subnet.includes(":"))?.subnet ?? "none"),
      ).matches(/::\/64$/);
      const fixed = addressInSubnet(subnet, 10);
      const box = await lab.probe("box").on(net, { ip6: fixed }).start();
      const peer = await lab.probe("peer").on(net).start();
      check(
        `${box.name}'s IPv6 addresses on eth0`,
        derive(await box.interfaces(), (all) => all.find((i) => i.name === "eth0")?.ipv6 ?? []),
      ).includes(`${fixed}/64`);
      check(`AAAA for ${box.name} from the peer`, await peer.addressesOf(box.name, "aaaa")).is([fixed]);
      check(
        `ping -6 ${fixed} from the peer`,
        derive(await peer.ping(fixed, "ipv6"), (p) => p.outcome),
      ).is("reached");
    },
  }),

  scenario({
    id: "V6-07",
    title: "-p HOST:80 on an IPv6 network also serves on the host's IPv6 addresses: [::1] and the bridge's own",
    area: "ipv6",
    doc: "Port publishing and mapping › Publishing ports; Use IPv6 networking",
    requires: [needs.hostNetwork],
    brokenBy: "publish-dropped",
    async run({ lab, check }) {
      const net = await lab.network("v6", { ipv6Subnet: "pick" });
      const port = await lab.hostPort();
      const web = await lab.probe("web").on(net).serving(80).publish(80, port).start();
      const gateway6 = check(
        "the host's IPv6 address on the network (web's IPv6 gateway)",
        derive(await web.routes("ipv6"), (r) => r.find((x) => x.destination === "default")?.via ?? "none"),
      ).matches(/:/);
      check(
        "docker port web 80",
        derive(await lab.inspect(web), (f) => f.ports["80/tcp"] ?? []),
      ).includes(`[::]:${port}`);
      // An address in duplicate address detection answers nothing (seen for ~2 s after start on 26.1).
      check(
        `${web.name}'s IPv6 addresses still tentative (DAD) before the requests`,
        await lab.eventually(
          () => web.tentativeIpv6(),
          (t) => t.length === 0,
          5000,
        ),
      ).is([]);
      const host = await lab.hostObserver();
      // In two clean-clone runs on 20.10 (the whole conformance run, on a faster machine than before)
      // [::1] timed out once right after DAD ended; alone it answers at once. Each address gets up to
      // 8 s to answer: a port that never answers (publish-dropped) still fails.
      const answers = (address: string) =>
        lab.eventually(
          () => host.request(address, port),
          (r) => r === "HTTP 404",
          8_000,
        );
      check(`http://[::1]:${port} from the host`, await answers("::1")).is("HTTP 404");
      check(`http://[${gateway6}]:${port} from the host`, await answers(gateway6)).is("HTTP 404");
    },
  }),

  scenario({
    id: "V6-04",
    title:
      "On an --ipv4=false --ipv6 network eth0 has no IPv4 (from 28.0; older engines ignore the option), yet the embedded DNS answers outside names from an IPv6 upstream",
    area: "ipv6",
    doc: "Use IPv6 networking › Create an IPv6-only network (Engine 28.0)",
    requires: [needs.outsideHost],
    brokenBy: "ipv6-disabled-in-containers",
    async run({ lab, check, since, engine }) {
      const outside = engine.outsideHost!;
      const net = await lab.network("v6only", { ipv6Subnet: "pick", ipv4: false });
      const client = await lab.probe("client").on(net).dns(outside.ipv6Address).start();
      const eth0 = derive(await client.interfaces(), (all) => all.find((i) => i.name === "eth0"));
      check(
        "eth0's global IPv6 addresses",
        derive(eth0, (i) => (i?.ipv6 ?? []).filter((a) => !a.startsWith("fe80"))),
      ).satisfies("one address", (a) => a.length === 1);
      if (since("28.0", "Engine 28.0 release notes: --ipv4=false makes a network IPv6-only")) {
        check(
          "eth0's IPv4 addresses",
          derive(eth0, (i) => i?.ipv4 ?? []),
        ).is([]);
      } else {
        check(
          "eth0's IPv4 addresses: --ipv4=false is ignored before 28.0",
          derive(eth0, (i) => i?.ipv4 ?? []),
        ).satisfies("one address", (a) => a.length === 1);
      }
      check(
        `${client.name}'s IPv6 addresses still tentative (DAD)`,
        await lab.eventually(
          () => client.tentativeIpv6(),
          (t) => t.length === 0,
          5000,
        ),
      ).is([]);
      check(
        `${OUTSIDE_ZONE_NAME} through the embedded DNS, upstream ${outside.ipv6Address}`,
        await client.addressesOf(OUTSIDE_ZONE_NAME),
      ).is([outside.address]);
    },
  }),

  scenario({
    id: "V6-05",
    title:
      "On a network without IPv6, eth0 has no IPv6 address at all, not even link-local; lo keeps ::1 from 26.0 (before, the container has no IPv6 at all)",
    area: "ipv6",
    doc: "Use IPv6 networking › (interfaces of IPv4-only networks; Engine 26.0 release notes)",
    brokenBy: "ipv6-on-every-network",
    async run({ lab, check, since }) {
      const net = await lab.network("v4only");
      const box = await lab.probe("box").on(net).start();
      const found = await box.interfaces();
      check(
        "eth0's IPv6 addresses",
        derive(found, (all) => all.find((i) => i.name === "eth0")?.ipv6 ?? []),
      ).is([]);
      const lo = derive(found, (all) => all.find((i) => i.name === "lo")?.ipv6 ?? []);
      // Observed: no IPv6 at all in the container on 20.10.24, ::1 on lo on 26.1.5 and 28.5.2.
      if (
        since(
          "26.0",
          "Engine 26.0 release notes: IPv6 stays on in containers (::1 on lo), off on the interfaces of IPv4-only networks",
        )
      ) {
        check("lo's IPv6 addresses", lo).includes("::1/128");
      } else {
        check("lo's IPv6 addresses: none before 26.0 (IPv6 off in the whole container)", lo).is([]);
      }
    },
  }),

  scenario({
    id: "V6-06",
    title:
      "--sysctl net.ipv6.conf.all.disable_ipv6=1: no IPv6 on any interface (lo included) and ::1 does not answer; from 28.0 a peer gets no AAAA for it",
    area: "ipv6",
    doc: "docker run reference › --sysctl ; Use IPv6 networking",
    brokenBy: "network-options-ignored",
    async run({ lab, check, since }) {
      const net = await lab.network("v6", { ipv6Subnet: "pick" });
      const quiet = await lab.probe("quiet").on(net).sysctl("net.ipv6.conf.all.disable_ipv6", "1").start();
      const peer = await lab.probe("peer").on(net).start();
      check(
        "control: the peer's own IPv6 on eth0",
        derive(
          await peer.interfaces(),
          (all) => all.find((i) => i.name === "eth0")?.ipv6.filter((a) => !a.startsWith("fe80")) ?? [],
        ),
      ).satisfies("one global address", (a) => a.length === 1);
      check(
        `IPv6 addresses in ${quiet.name}`,
        derive(await quiet.interfaces(), (all) => all.flatMap((i) => i.ipv6)),
      ).is([]);
      check(
        `ping -6 ::1 in ${quiet.name}`,
        derive(await quiet.ping("::1", "ipv6"), (p) => p.outcome),
      ).isNot("reached");
      const aaaa = await peer.addressesOf(quiet.name, "aaaa");
      // Observed: the address the engine allocated is still served on 20.10.24 and 26.1.5, not on 28.5.2.
      if (
        since("28.0", "Engine 28.0 release notes: a container with IPv6 disabled gets no IPv6 address on its networks")
      ) {
        check(`AAAA for ${quiet.name} from the peer`, aaaa).is([]);
      } else {
        check(`AAAA for ${quiet.name} from the peer: still served before 28.0`, aaaa).satisfies(
          "one address",
          (a) => a.length === 1,
        );
      }
    },
  }),

  scenario({
    id: "V6-01",
    title:
      "network create --ipv6 with no subnet gets a ULA /64 inside fd00::/8 (from 27.0; refused before, unless the daemon has IPv6 pools)",
    area: "ipv6",
    doc: "Use IPv6 networking › Dynamic IPv6 subnet allocation",
    brokenBy: "network-options-ignored",
    async run({ lab, check, since, engine }) {
      const created = await lab.attemptNetwork("auto6", { ipv6: true });
      const dynamic = since(
        "27.0",
        "Engine 27.0 release notes: IPv6 subnets are allocated from fd00::/8 when none is given",
      );
      // Before 27.0 an engine needs IPv6 address pools in daemon.json to allocate one (V6-09).
      if (!dynamic && !engine.daemonConfig?.["default-address-pools"]) {
        check(
          "docker network create --ipv6 (no subnet), before 27.0",
          derive(created, (c) => c.outcome),
        ).isNot("accepted");
        return;
      }
      check(
        "docker network create --ipv6 (no subnet)",
        derive(created, (c) => c.outcome),
      ).is("accepted");
      const facts = await lab.inspectNetwork(created.value.network!);
      const v6 = derive(facts, (f) => f.subnets.map((x) => x.subnet).filter((x) => x.includes(":")));
      check("its IPv6 subnet", v6).satisfies(
        dynamic ? "one /64 in fd00::/8" : "one IPv6 subnet",
        (subnets) =>
          subnets.length === 1 && (!dynamic || (/^fd[0-9a-f]{2}:/.test(subnets[0]!) && subnets[0]!.endsWith("/64"))),
      );
    },
  }),

  scenario({
    id: "V6-10",
    title:
      "Two dual-stack user-defined networks are isolated over IPv6 as over IPv4 only with ip6tables, on by default from 27.0: before, IPv6 crosses between them",
    area: "ipv6",
    doc: "Use IPv6 networking › ip6tables ; Engine 27.0 release notes",
    brokenBy: "network-options-ignored",
    async run({ lab, check, since, engine }) {
      const [a, b] = [
        await lab.network("a", { subnet: "pick", ipv6Subnet: "pick" }),
        await lab.network("b", { subnet: "pick", ipv6Subnet: "pick" }),
      ];
      const target = await lab.probe("target").on(b).start();
      const neighbour = await lab.probe("neighbour").on(b).start();
      const stranger = await lab.probe("stranger").on(a).start();
      const addresses = await target.interfaces();
      const v6 = check(
        `${target.name}'s IPv6 address`,
        derive(addresses, (all) => all.find((i) => i.name === "eth0")?.ipv6.find((x) => !x.startsWith("fe80")) ?? ""),
      )
        .matches(/^fd0d:/)
        .split("/")[0]!;
      const v4 = (await lab.addressOn(target, b)).value;
      check(
        `control: ping -6 ${v6} from ${b.name}`,
        derive(await neighbour.ping(v6, "ipv6"), (p) => p.outcome),
      ).is("reached");
      // The IPv4 ping first, as before the gate: a ping -6 beside it went unanswered on 20.10 two times
      // in three (the new bridges' addresses may still be in DAD), after it never.
      const [pingV4, pingV6] = await lab.steadyFirewall(async () => [
        await stranger.ping(v4),
        await stranger.ping(v6, "ipv6"),
      ]);
      check(
        `ping ${v4} from ${a.name}`,
        derive(pingV4, (p) => p.outcome),
      ).isNot("reached");
      const across = derive(pingV6, (p) => p.outcome);
      // Observed: reached on 20.10.24 and 26.1.5 (ip6tables off by default), refused on 28.5.2.
      const byDefault = since("27.0", "Engine 27.0 release notes: ip6tables is enabled by default");
      const ip6tables =
        typeof engine.daemonConfig?.["ip6tables"] === "boolean" ? engine.daemonConfig["ip6tables"] : byDefault;
      if (ip6tables) {
        check(`ping -6 ${v6} from ${a.name}`, across).isNot("reached");
      } else {
        check(`ping -6 ${v6} from ${a.name}: without ip6tables nothing keeps IPv6 from crossing`, across).is("reached");
      }
    },
  }),

  scenario({
    id: "V6-08",
    title:
      "With ip6tables=false an IPv6 bridge network gets no ip6tables rules, while its IPv4 side gets iptables rules as usual",
    area: "ipv6",
    doc: "Use IPv6 networking › ip6tables; Packet filtering and firewalls; moby TestNoIP6Tables",
    daemon: { ip6tables: false },
    // Before 27.0 ip6tables was experimental and off by default: there was nothing to turn off.
    requires: [needs.engineHost, needs.engineAtLeast("27.0", "ip6tables left experimental, on by default, in 27.0")],
    brokenBy: "daemon-config-dropped",
    async run({ lab, check }) {
      const net = await lab.network("v6", { subnet: "pick", ipv6Subnet: "pick" });
      const bridge = `br-${net.id.slice(0, 12)}`;
      const mentions = (rules: readonly string[]) => rules.filter((rule) => rule.includes(bridge));
      // The control: the engine programs the firewall for this network at all.
      check(
        `iptables rules naming ${bridge}`,
        derive(await lab.host.firewall("filter"), (r) => mentions(r.rules)),
      ).satisfies("some", (rules) => rules.length > 0);
      const [filter, nat] = await Promise.all([lab.host.firewall("filter", "ipv6"), lab.host.firewall("nat", "ipv6")]);
      check(
        `ip6tables filter rules naming ${bridge}`,
        derive(filter, (r) => mentions(r.rules)),
      ).is([]);
      check(
        `ip6tables nat rules naming ${bridge}`,
        derive(nat, (r) => mentions(r.rules)),
      ).is([]);
    },
  }),
];
