import { needs } from "../harness/capabilities.js";
import { derive } from "../harness/evidence.js";
import { IPV4_ADDRESS } from "../harness/lab/probe-output.js";
import { scenario } from "../harness/scenario.js";

/**
 * Overlay networks and swarm: several engines in one swarm (docknet's own
 * multi-host lab, `docknet run --lab 3`, or the nodes of a real swarm,
 * `--nodes`). Node 1 is a manager; "another host" is any other node.
 */

const SWARM_DOC = "Swarm mode › Manage swarm service networks";
const OVERLAY_DOC = "Network drivers › Overlay network driver";

export default [
  scenario({
    id: "OV-01",
    title: "A swarm has an ingress overlay (scope swarm) and a docker_gwbridge bridge (scope local) on every node",
    area: "overlay",
    doc: `${SWARM_DOC} › Overlay networking and service discovery`,
    requires: [needs.multiHost],
    brokenBy: "ingress-removed",
    async run({ cluster, check }) {
      const swarm = cluster();
      // docker_gwbridge is made when a node first sets up its ingress sandbox: give each node a moment.
      for (const node of swarm.nodes) {
        const networks = await swarm.eventually(
          () => swarm.networksOn(node),
          (list) => list.some((n) => n.name === "docker_gwbridge"),
        );
        check(
          `the ingress network on ${node.name}`,
          derive(networks, (list) => list.filter((n) => n.ingress).map((n) => `${n.name} ${n.driver} ${n.scope}`)),
        ).is(["ingress overlay swarm"]);
        check(
          `docker_gwbridge on ${node.name}`,
          derive(networks, (list) =>
            list.filter((n) => n.name === "docker_gwbridge").map((n) => `${n.driver} ${n.scope}`),
          ),
        ).is(["bridge local"]);
      }
    },
  }),

  scenario({
    id: "OV-02",
    title: "Standalone containers may join an overlay only when it was created --attachable",
    area: "overlay",
    doc: `${OVERLAY_DOC} › Create an overlay network`,
    requires: [needs.multiHost],
    brokenBy: "overlays-not-attachable",
    async run({ cluster, check }) {
      const swarm = cluster();
      const worker = swarm.others[0]!;
      const attachable = await swarm.overlay("att", { attachable: true });
      const joined = await swarm.on(worker).probe("joiner").on(attachable).attempt();
      check(
        `docker run --network ${attachable.name} on ${worker.name}`,
        derive(joined, (a) => a.message),
      ).is("started");
      const after = await swarm.networksOn(swarm.manager);
      check(
        `${attachable.name} is still attachable once a container joined`,
        derive(after, (l) => l.find((n) => n.name === attachable.name)?.attachable ?? false),
      ).is(true);
      const servicesOnly = await swarm.overlay("svc-only");
      const refused = await swarm.on(worker).probe("refused").on(servicesOnly).attempt();
      check(
        `docker run --network ${servicesOnly.name} (not attachable) on ${worker.name}`,
        derive(refused, (a) => a.message),
      ).matches(/not manually attachable|attachable/i);
    },
  }),

  scenario({
    id: "OV-03",
    title:
      "docker swarm leave detaches the node's containers from attachable overlays, and the overlay disappears there",
    area: "overlay",
    doc: `${OVERLAY_DOC} › Use an overlay network for standalone containers`,
    requires: [needs.multiHost, needs.disposableSwarm],
    brokenBy: "swarm-leave-skipped",
    async run({ cluster, check }) {
      const swarm = cluster();
      const worker = swarm.others[0]!;
      const net = await swarm.overlay("leave", { attachable: true });
      const probe = await swarm.on(worker).probe("stays").on(net).start();
      check(`${probe.name}'s networks before leaving`, await swarm.attachments(worker, probe)).includes(net.name);
      check(`${worker.name} leaves the swarm`, await swarm.leave(worker)).is("accepted");
      const detached = await swarm.eventually(
        () => swarm.attachments(worker, probe),
        (list) => !list.includes(net.name),
      );
      check(`${probe.name}'s networks after leaving`, detached).excludes(net.name);
      const networks = await swarm.eventually(
        () => swarm.networksOn(worker),
        (list) => !list.some((n) => n.name === net.name),
      );
      check(
        `${net.name} on ${worker.name} after leaving`,
        derive(networks, (l) => l.map((n) => n.name)),
      ).excludes(net.name);
    },
  }),

  scenario({
    id: "OV-04",
    title:
      "Only one ingress network exists; once removed, publishing through the routing mesh is refused until one is made again",
    area: "overlay",
    doc: `${SWARM_DOC} › Customize the ingress network`,
    requires: [needs.multiHost, needs.disposableSwarm],
    brokenBy: "ingress-removed",
    async run({ cluster, check }) {
      const swarm = cluster();
      const second = await swarm.attemptOverlay("ingress2", { ingress: true });
      check(
        "a second --ingress network",
        derive(second, (s) => s.outcome),
      ).matches(/already present|ingress network .* is present|already exists/i);
      check("docker network rm ingress (no service uses it)", await swarm.removeNetwork("ingress")).is("accepted");
      const published = await swarm.attemptService("needs-mesh", {
        networks: [],
        publish: [{ published: await swarm.freePort(), target: 80, mode: "ingress" }],
      });
      check("a service publishing through the routing mesh without ingress", published).matches(/no ingress network/i);
      const replacement = await swarm.attemptOverlay("my-ingress", { ingress: true });
      check(
        "a new --ingress network",
        derive(replacement, (r) => r.outcome),
      ).is("accepted");
    },
  }),

  scenario({
    id: "OV-05",
    title: "The routing mesh answers a published port on every node, also those running no task",
    area: "overlay",
    doc: "Swarm mode › Use swarm mode routing mesh",
    requires: [needs.multiHost, needs.kernel("ipvs", "the routing mesh balances with IPVS")],
    brokenBy: "ingress-removed",
    async run({ cluster, check }) {
      const swarm = cluster();
      const port = await swarm.freePort();
      await swarm.service("web", {
        networks: [],
        replicas: 1,
        serving: [80],
        onNodes: [swarm.manager.name],
        publish: [{ published: port, target: 80, mode: "ingress" }],
      });
      // A client on another node's default bridge reaches each node's address, as a machine on the LAN would.
      const client = await swarm.on(swarm.others[0]!).probe("client").start();
      // Each node joins the mesh when the service's allocation reaches it: that is eventual, by design.
      for (const node of swarm.nodes) {
        check(
          `http://${node.address}:${port} (the mesh on ${node.name})`,
          await swarm.eventually(
            () => client.request(node.address, port),
            (answer) => answer === "HTTP 404",
          ),
        ).is("HTTP 404");
      }
    },
  }),

  scenario({
    id: "OV-06",
    title:
      "A service name resolves to one virtual IP; tasks.<service> to each task; with --endpoint-mode dnsrr the name gives the tasks, which answer",
    area: "overlay",
    doc: `${SWARM_DOC} › Configure service discovery`,
    requires: [needs.multiHost],
    brokenBy: "service-options-ignored",
    async run({ cluster, check }) {
      const swarm = cluster();
      const net = await swarm.overlay("disc", { attachable: true });
      const vip = await swarm.service("vip", { networks: [{ network: net }], replicas: 2, serving: [80] });
      const rr = await swarm.service("rr", {
        networks: [{ network: net }],
        replicas: 2,
        serving: [80],
        endpointMode: "dnsrr",
      });
      const client = await swarm.on(swarm.manager).probe("client").on(net).start();
      const vipTasks = (await swarm.tasks(vip, 2)).map((t) => t.addresses[net.name]!).sort();
      const rrTasks = (await swarm.tasks(rr, 2)).map((t) => t.addresses[net.name]!).sort();
      check(`${vip.name} resolves to one address`, await client.addressesOf(vip.name)).satisfies(
        "one address",
        (a) => a.length === 1,
      );
      check(
        `${vip.name}'s address is not a task's`,
        derive(await client.addressesOf(vip.name), (a) => vipTasks.includes(a[0] ?? "")),
      ).is(false);
      check(
        `tasks.${vip.name}`,
        derive(await client.addressesOf(`tasks.${vip.name}`), (a) => [...a].sort()),
      ).is(vipTasks);
      check(
        `${rr.name} (dnsrr) resolves to its tasks`,
        derive(await client.addressesOf(rr.name), (a) => [...a].sort()),
      ).is(rrTasks);
      check(`http://${rr.name} (dnsrr: straight to a task, on any node)`, await client.request(rr.name, 80)).is(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "OV-15",
    title: "Connections to a service's virtual IP reach its tasks (IPVS in each container's namespace balances them)",
    area: "overlay",
    doc: `${SWARM_DOC} › Configure service discovery (VIP)`,
    // Without IPVS the VIP still resolves, and every connection to it goes nowhere.
    requires: [needs.multiHost, needs.kernel("ipvs", "a service's virtual IP is balanced by IPVS")],
    brokenBy: "data-path-blocked",
    async run({ cluster, check }) {
      const swarm = cluster();
      const net = await swarm.overlay("vip", { attachable: true });
      const vip = await swarm.service("vip", { networks: [{ network: net }], replicas: 2, serving: [80] });
      const client = await swarm.on(swarm.manager).probe("client").on(net).start();
      for (let attempt = 1; attempt <= 3; attempt++) {
        check(`http://${vip.name} (through its VIP), attempt ${attempt}`, await client.request(vip.name, 80)).is(
          "HTTP 404",
        );
      }
    },
  }),

  scenario({
    id: "OV-07",
    title: "mode=host publishing binds the port on the node that runs the task, and docker ps shows it there",
    area: "overlay",
    doc: "Swarm mode › Use swarm mode routing mesh › Bypass the routing mesh",
    requires: [needs.multiHost],
    brokenBy: "service-options-ignored",
    async run({ cluster, check }) {
      const swarm = cluster();
      const host = swarm.others[0]!;
      const port = await swarm.freePort();
      await swarm.service("hostport", {
        networks: [],
        replicas: 1,
        serving: [80],
        onNodes: [host.name],
        publish: [{ published: port, target: 80, mode: "host" }],
      });
      check(`published ports on ${host.name}`, await swarm.publishedOn(host)).satisfies(
        `a binding of ${port} to 80/tcp`,
        (ports) => ports.some((p) => p.endsWith(`:${port}->80/tcp`)),
      );
      const client = await swarm.on(swarm.manager).probe("client").start();
      check(`http://${host.address}:${port} from ${swarm.manager.name}`, await client.request(host.address, port)).is(
        "HTTP 404",
      );
    },
  }),

  scenario({
    id: "OV-08",
    title: "The data-path (VXLAN) port is 4789 unless swarm init --data-path-port says otherwise",
    area: "overlay",
    doc: `${OVERLAY_DOC} › Prerequisites (ports) ; docker swarm init --data-path-port`,
    requires: [needs.multiHost, needs.disposableSwarm],
    brokenBy: "swarm-init-options-ignored",
    async run({ cluster, check }) {
      const swarm = cluster();
      check(
        "the data-path port of the default swarm",
        derive(await swarm.swarm(swarm.manager), (s) => s.dataPathPort),
      ).is(4789);
      check("swarm init --data-path-port 7789", await swarm.reform({ dataPathPort: 7789 })).is("accepted");
      check(
        "the data-path port after swarm init --data-path-port 7789",
        derive(await swarm.swarm(swarm.manager), (s) => s.dataPathPort),
      ).is(7789);
      // The VXLAN socket opens when an overlay is first used on the node.
      const net = await swarm.overlay("dp", { attachable: true });
      await swarm.on(swarm.manager).probe("user").on(net).start();
      if (swarm.manager.netns) {
        check(
          `UDP sockets on ${swarm.manager.name}`,
          await swarm.inNodeNamespace(swarm.manager, ["ss", "-Huln"]),
        ).satisfies("one on port 7789", (text) => /:7789\b/.test(text));
      }
    },
  }),

  scenario({
    id: "OV-09",
    title: "swarm init --default-addr-pool gives ingress the pool's first subnet and new overlays the next ones",
    area: "overlay",
    doc: `${SWARM_DOC} › Configure default address pools`,
    requires: [needs.multiHost, needs.disposableSwarm],
    brokenBy: "swarm-init-options-ignored",
    async run({ cluster, check }) {
      const swarm = cluster();
      const pool = { subnet: "10.215.0.0/16", maskLength: 24 };
      check(
        `swarm init --default-addr-pool ${pool.subnet} --default-addr-pool-mask-length 24`,
        await swarm.reform({ defaultAddrPool: pool }),
      ).is("accepted");
      const networks = await swarm.networksOn(swarm.manager);
      check(
        "ingress's subnet",
        derive(networks, (l) => l.find((n) => n.ingress)?.subnets ?? []),
      ).is(["10.215.0.0/24"]);
      const net = await swarm.overlay("pooled");
      // The manager's allocator gives a new overlay its subnet a moment after the network exists.
      const subnetOf = (list: { name: string; subnets: string[] }[]) =>
        list.find((n) => n.name === net.name)?.subnets ?? [];
      const allocated = await swarm.eventually(
        () => swarm.networksOn(swarm.manager),
        (l) => subnetOf(l).length > 0,
      );
      check(`${net.name}'s subnet`, derive(allocated, subnetOf)).is(["10.215.1.0/24"]);
    },
  }),

  scenario({
    id: "OV-10",
    title: "A service's --dns, --dns-search and --dns-option appear in its tasks' resolv.conf",
    area: "overlay",
    doc: "docker service create reference › --dns",
    requires: [needs.multiHost],
    brokenBy: "service-options-ignored",
    async run({ cluster, check }) {
      const swarm = cluster();
      // A task on no overlay sits on the node's default bridge, where resolv.conf carries the servers as given.
      const service = await swarm.service("dnsopt", {
        networks: [],
        dns: { nameservers: ["10.214.0.53"], search: ["lab.example"], options: ["timeout:3"] },
      });
      const [task] = await swarm.tasks(service, 1);
      const conf = await swarm.taskProbe(task!).resolvConf();
      check(
        "nameservers",
        derive(conf, (c) => c.nameservers),
      ).is(["10.214.0.53"]);
      check(
        "search domains",
        derive(conf, (c) => c.search),
      ).includes("lab.example");
      check(
        "options",
        derive(conf, (c) => c.options),
      ).includes("timeout:3");
    },
  }),

  scenario({
    id: "OV-11",
    title: "An encrypted overlay (-o encrypted) carries traffic between nodes as IPsec ESP",
    area: "overlay",
    doc: `${OVERLAY_DOC} › Encrypt traffic on an overlay network`,
    requires: [needs.multiHost],
    brokenBy: "overlay-encryption-dropped",
    async run({ cluster, check, engine, skip }) {
      const swarm = cluster();
      const net = await swarm.overlay("secret", { attachable: true, encrypted: true });
      const target = await swarm.on(swarm.manager).probe("target").on(net).start();
      const client = await swarm.on(swarm.others[0]!).probe("client").on(net).start();
      const ip = check(
        `${target.name}'s address`,
        derive(await swarm.attachmentAddress(swarm.manager, target, net.name), (a) => a),
      ).matches(IPV4_ADDRESS);
      // ESP packets counted on the manager before and after the ping: security associations alone
      // prove nothing, since another encrypted overlay (an earlier scenario's) may have left them.
      const espPackets = async () =>
        derive(await swarm.inNodeNamespace(swarm.manager, ["ip", "-s", "xfrm", "state"]), espPacketCount);
      const before = swarm.manager.netns ? await espPackets() : undefined;
      const reach = await swarm.eventually(
        () => client.ping(ip),
        (p) => p.outcome === "reached",
        6_000,
      );
      const lacking = engine.kernelMissing?.encryptedOverlay ?? [];
      if (lacking.length > 0) {
        // Where the kernel cannot do ESP the swarm still creates the network: traffic must vanish, never flow in plaintext.
        check(`ping ${ip} across nodes on an encrypted overlay the kernel cannot encrypt`, reach).satisfies(
          "no reply (black-holed, not sent in clear)",
          (p) => p.outcome === "no reply",
        );
        skip(
          `kernel has no ${lacking.join(", ")}: the encrypted overlay black-holes traffic between nodes (ping across nodes: no reply)`,
        );
      }
      check(`ping ${ip} across nodes on the encrypted overlay`, reach).satisfies(
        "reached",
        (p) => p.outcome === "reached",
      );
      if (before) {
        const after = await espPackets();
        check(
          `ESP packets through ${swarm.manager.name}'s security associations during the ping (${before.value} before)`,
          derive(after, (n) => n - before.value),
        ).satisfies("more than 0", (delta) => delta > 0);
      }
    },
  }),

  scenario({
    id: "OV-12",
    title:
      "Standalone containers on an attachable overlay reach each other by name across hosts; the network appears on a node when first used there",
    area: "overlay",
    doc: `${OVERLAY_DOC} › Use an overlay network for standalone containers`,
    requires: [needs.multiHost],
    brokenBy: "data-path-blocked",
    async run({ cluster, check }) {
      const swarm = cluster();
      const [first, second] = [swarm.manager, swarm.others[0]!];
      const net = await swarm.overlay("standalone", { attachable: true });
      check(
        `${net.name} on ${second.name} before any container uses it there`,
        derive(await swarm.networksOn(second), (l) => l.map((n) => n.name)),
      ).excludes(net.name);
      const alpha = await swarm.on(first).probe("alpha").on(net).start();
      const beta = await swarm.on(second).probe("beta").on(net).start();
      check(
        `${net.name} on ${second.name} once ${beta.name} uses it`,
        derive(await swarm.networksOn(second), (l) => l.map((n) => n.name)),
      ).includes(net.name);
      check(
        `ping ${alpha.name} from ${beta.name} (${second.name} -> ${first.name})`,
        await swarm.eventually(
          () => beta.ping(alpha.name),
          (p) => p.outcome === "reached",
          6_000,
        ),
      ).satisfies("reached", (p) => p.outcome === "reached");
      check(
        `ping ${beta.name} from ${alpha.name} (${first.name} -> ${second.name})`,
        await alpha.ping(beta.name),
      ).satisfies("reached", (p) => p.outcome === "reached");
    },
  }),

  scenario({
    id: "OV-13",
    title: "A service attached to two overlays reaches containers on both, on other hosts",
    area: "overlay",
    doc: "docker service create reference › --network (attach a service to several networks)",
    requires: [needs.multiHost],
    brokenBy: "data-path-blocked",
    async run({ cluster, check }) {
      const swarm = cluster();
      const [front, back] = [
        await swarm.overlay("front", { attachable: true }),
        await swarm.overlay("back", { attachable: true }),
      ];
      const peers = [swarm.others[0]!, swarm.others[1] ?? swarm.others[0]!] as const;
      const web = await swarm.on(peers[0]).probe("web").on(front).serving(80).start();
      const db = await swarm.on(peers[1]).probe("db").on(back).serving(80).start();
      const service = await swarm.service("both", {
        networks: [{ network: front }, { network: back }],
        onNodes: [swarm.manager.name],
      });
      const [task] = await swarm.tasks(service, 1);
      const inside = swarm.taskProbe(task!);
      check(
        `${web.name} (on ${front.name}, ${peers[0].name}) from the service`,
        await swarm.eventually(
          () => inside.request(web.name, 80),
          (r) => r === "HTTP 404",
          6_000,
        ),
      ).is("HTTP 404");
      check(
        `${db.name} (on ${back.name}, ${peers[1].name}) from the service`,
        await swarm.eventually(
          () => inside.request(db.name, 80),
          (r) => r === "HTTP 404",
          6_000,
        ),
      ).is("HTTP 404");
    },
  }),

  scenario({
    id: "OV-14",
    title:
      "Overlay MTU: containers get the underlay MTU less the 50-byte VXLAN header: 1450 by default, 1350 with -o com.docker.network.driver.mtu=1400",
    area: "overlay",
    doc: `${OVERLAY_DOC} › Options (com.docker.network.driver.mtu)`,
    // The reference calls the option the containers' MTU; the overlay driver takes the VXLAN header off it too
    // (libnetwork drivers/overlay maxMTU), so containers get 50 bytes less than asked.
    tags: ["docs-differ"],
    requires: [needs.multiHost],
    brokenBy: "network-options-ignored",
    async run({ cluster, check }) {
      const swarm = cluster();
      const plain = await swarm.overlay("mtu", { attachable: true });
      const small = await swarm.overlay("mtu1400", { attachable: true, mtu: 1400 });
      const a = await swarm.on(swarm.manager).probe("a").on(plain).on(small).start();
      const b = await swarm.on(swarm.others[0]!).probe("b").on(plain).start();
      const mtus = derive(await a.interfaces(), (list) =>
        list.filter((i) => i.name !== "lo").map((i) => `${i.ipv4[0] ?? "?"} ${i.mtu}`),
      );
      const ipOf = async (network: string) =>
        derive(await swarm.attachmentAddress(swarm.manager, a, network), (x) => x);
      const onPlain = check(`${a.name}'s address on ${plain.name}`, await ipOf(plain.name)).matches(IPV4_ADDRESS);
      const onSmall = check(`${a.name}'s address on ${small.name}`, await ipOf(small.name)).matches(IPV4_ADDRESS);
      check(
        `the MTU of ${a.name}'s interface on ${plain.name}`,
        derive(mtus, (l) => l.find((x) => x.startsWith(`${onPlain}/`))?.split(" ")[1]),
      ).is("1450");
      check(
        `the MTU of ${a.name}'s interface on ${small.name}`,
        derive(mtus, (l) => l.find((x) => x.startsWith(`${onSmall}/`))?.split(" ")[1]),
      ).is("1350");
      // 1422 bytes of ICMP payload fill a 1450-byte packet: it crosses the VXLAN tunnel whole.
      check(
        `a full-size (1450-byte) ping from ${b.name} to ${a.name} across hosts`,
        await swarm.eventually(
          () => b.ping(onPlain, "ipv4", { payloadBytes: 1422 }),
          (p) => p.outcome === "reached",
          6_000,
        ),
      ).satisfies("reached", (p) => p.outcome === "reached");
    },
  }),
];

/** The packets counted by every ESP security association in `ip -s xfrm state` output. */
function espPacketCount(output: string): number {
  return output
    .split(/^src /m)
    .filter((block) => /proto esp/.test(block))
    .reduce((sum, block) => sum + [...block.matchAll(/(\d+)\(packets\)/g)].reduce((n, m) => n + Number(m[1]), 0), 0);
}
