import { inSubnet, splitSubnet, subnetsOverlap } from "../../cidr.js";
import { finding, ok, type DoctorCheck } from "../check.js";
import type { Facts, Route } from "../facts.js";
import { dockerBridgeNames, listSome, subnetsOf } from "./engine-facts.js";

/** The pools dockerd takes network subnets from when none is given (daemon/config defaults). */
export const BUILT_IN_POOLS: ReadonlyArray<{ base: string; size: number }> = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: "192.168.0.0/16", size: 20 },
];

function addressPools(facts: Facts): ReadonlyArray<{ base: string; size: number }> {
  const configured = facts.daemonSetting("default-address-pools");
  if (Array.isArray(configured) && configured.length) return configured as Array<{ base: string; size: number }>;
  return BUILT_IN_POOLS;
}

/** Routes and addresses on the engine's host that Docker did not make: the LAN, VPNs, the cloud. */
function foreignRoutes(facts: Facts): Route[] {
  const ours = dockerBridgeNames(facts.networks());
  return facts
    .routes()
    .filter((r) => r.table === "main" && r.dst !== "default" && r.dst.includes(".") && !(r.dev && ours.has(r.dev)));
}

export const addressingChecks: readonly DoctorCheck[] = [
  {
    id: "D-ADDR-01",
    title: "Docker's subnets overlap no route, address or resolver of the host",
    why: "When a Docker network takes a subnet the host already reaches elsewhere (the LAN, a VPN, a cloud VPC), replies to those hosts go into the bridge: that part of the world becomes unreachable from the host and its containers.",
    fix: 'daemon.json "bip" and "default-address-pools": [{"base": "10.x.0.0/16", "size": 24}] outside the LAN and VPN ranges; recreate the networks',
    reference: "moby#37823; moby#21776; moby/libnetwork#2001",
    explains: ["DB-05", "OPT-05", "ISO-03", "DB-04", "DNS-01"],
    evaluate(facts) {
      const ours = dockerBridgeNames(facts.networks());
      const routes = foreignRoutes(facts);
      const addresses = facts.addresses().filter((a) => a.family === "inet" && !ours.has(a.device));
      const nameservers = facts.maybe(() => facts.resolvConf().nameservers) ?? [];
      const clashes: string[] = [];
      for (const network of facts.networks()) {
        for (const subnet of subnetsOf(network)) {
          for (const r of routes)
            if (subnetsOverlap(subnet, r.dst))
              clashes.push(
                `network ${network.Name} ${subnet} overlaps route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${r.dev ? ` dev ${r.dev}` : ""}`,
              );
          for (const a of addresses)
            if (subnetsOverlap(subnet, a.cidr))
              clashes.push(`network ${network.Name} ${subnet} overlaps address ${a.cidr} on ${a.device}`);
          for (const ns of nameservers)
            if (inSubnet(ns, subnet))
              clashes.push(
                `network ${network.Name} ${subnet} contains the host's nameserver ${ns}: DNS queries go into the bridge`,
              );
        }
      }
      return clashes.length
        ? finding("error", listSome(clashes))
        : ok(`${facts.networks().length} network(s), ${routes.length} other route(s): no overlap`);
    },
  },
  {
    id: "D-ADDR-03",
    title: "The pools new networks are cut from cover no route, address or resolver of the host",
    why: "ADDR-01 sees the subnets in use; the next docker network create (or compose up) takes a subnet from the address pools, and when a host route (a VPN's, typically) lies inside a pool, that network can shadow it: the VPN's hosts become unreachable from the host and its containers.",
    fix: 'daemon.json "default-address-pools": [{"base": "10.x.0.0/16", "size": 24}] outside the LAN and VPN ranges, then restart docker',
    reference: "moby#37823; moby#33925; docker/for-linux#599",
    explains: ["DB-05", "OPT-05", "ISO-03", "UB-01"],
    evaluate(facts) {
      facts.requireEngine();
      const pools = addressPools(facts);
      const ours = dockerBridgeNames(facts.networks());
      const routes = foreignRoutes(facts);
      const addresses = facts
        .addresses()
        .filter((a) => a.family === "inet" && !ours.has(a.device) && !a.cidr.startsWith("127."));
      const nameservers = (facts.maybe(() => facts.resolvConf().nameservers) ?? []).filter(
        (ns) => ns.includes(".") && !ns.startsWith("127."),
      );
      const covered: string[] = [];
      for (const pool of pools) {
        const name = `pool ${pool.base} (size /${pool.size})`;
        for (const r of routes)
          if (subnetsOverlap(pool.base, r.dst))
            covered.push(
              `${name} covers route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${r.dev ? ` dev ${r.dev}` : ""}`,
            );
        for (const a of addresses)
          if (subnetsOverlap(pool.base, a.cidr)) covered.push(`${name} covers address ${a.cidr} on ${a.device}`);
        for (const ns of nameservers)
          if (inSubnet(ns, pool.base)) covered.push(`${name} covers the host's nameserver ${ns}`);
      }
      const source = Array.isArray(facts.daemonSetting("default-address-pools"))
        ? "default-address-pools"
        : "the built-in pools (no default-address-pools)";
      return covered.length
        ? finding("warn", [`pools from ${source}`, ...listSome(covered)])
        : ok(`${pools.length} pool(s) from ${source}, ${routes.length} other route(s): none covered`);
    },
  },
  {
    id: "D-ADDR-02",
    title: "The default address pools have room for new networks",
    why: 'Every new network (and every compose project) takes a subnet from the pools; when all are used or shadowed by host routes, creating a network fails with "could not find an available, non-overlapping IPv4 address pool".',
    fix: 'smaller subnets from the pools ("size": 24), docker network prune, or a pool outside the VPN\'s routes',
    reference: "docker/for-linux#599; moby#33925; moby#21847",
    evaluate(facts) {
      const pools = addressPools(facts);
      const taken = [...facts.networks().flatMap(subnetsOf), ...foreignRoutes(facts).map((r) => r.dst)];
      let total = 0;
      let free = 0;
      for (const pool of pools) {
        for (const subnet of splitSubnet(pool.base, pool.size, 4096)) {
          total++;
          if (!taken.some((t) => subnetsOverlap(subnet, t))) free++;
        }
      }
      const seen = [`pools: ${pools.map((p) => `${p.base}/${p.size}`).join(", ")}`, `${free} of ${total} subnets free`];
      if (free === 0) return finding("error", seen);
      return free < 3 ? finding("warn", seen) : ok(...seen);
    },
  },
];
