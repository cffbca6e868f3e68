import { finding, ok, type DoctorCheck } from "../check.js";
import type { ContainerInfo } from "../facts.js";
import { describePort, isWildcard, listSome, publishedPorts } from "./engine-facts.js";

const nameOf = (c: ContainerInfo) => c.Name.replace(/^\//, "");
const PORT_CLASH = /address already in use|port is already allocated/i;

export const containerChecks: readonly DoctorCheck[] = [
  {
    id: "D-CTR-01",
    title: "No container shares the host's network namespace",
    why: "A host-network container sees and binds every host interface and bypasses Docker's isolation and port publishing.",
    fix: "run it on a bridge network with explicit -p",
    reference: "CIS Docker Benchmark 5.10",
    evaluate(facts) {
      const host = facts
        .containers()
        .filter((c) => c.HostConfig?.NetworkMode === "host")
        .map(nameOf);
      return host.length
        ? finding("warn", listSome(host.map((n) => `${n}: --network host`)))
        : ok("no host-network container");
    },
  },
  {
    id: "D-CTR-02",
    title: "No port is published on every address",
    why: "-p 8080:80 binds 0.0.0.0 and [::]: the port answers on every interface, the public one included, whatever the host firewall says (see FW-03).",
    fix: '-p 127.0.0.1:8080:80 or a chosen address; daemon.json "ip": "127.0.0.1"; per network com.docker.network.bridge.host_binding_ipv4',
    reference: "CIS Docker Benchmark 5.14 and 5.9; docs: Packet filtering and firewalls",
    evaluate(facts) {
      const ports = publishedPorts(facts.containers());
      const wildcard = ports.filter((p) => isWildcard(p.hostIp)).map(describePort);
      return wildcard.length
        ? finding("warn", listSome(wildcard))
        : ok(`${ports.length} published port(s), none on every address`);
    },
  },
  {
    id: "D-CTR-03",
    title: "No privileged host port is published",
    why: "Host ports below 1024 are usually meant for the host's own services; mapping them from containers invites clashes and needs root.",
    fix: "map a high port behind a reverse proxy",
    reference: "CIS Docker Benchmark 5.8",
    evaluate(facts) {
      const low = publishedPorts(facts.containers())
        .filter((p) => p.hostPort > 0 && p.hostPort < 1024)
        .map(describePort);
      return low.length ? finding("info", listSome(low)) : ok("no host port below 1024");
    },
  },
  {
    id: "D-CTR-04",
    title: "No container uses the default bridge",
    why: "The default bridge has no name resolution between containers and puts every container on one shared segment.",
    fix: "user-defined networks (docker network create …)",
    reference: "CIS Docker Benchmark 5.30",
    explains: ["DB-03"],
    evaluate(facts) {
      const onBridge = facts
        .containers()
        .filter((c) => Object.keys(c.NetworkSettings?.Networks ?? {}).includes("bridge"))
        .map(nameOf);
      return onBridge.length
        ? finding("info", listSome(onBridge.map((n) => `${n} is on the default bridge`)))
        : ok("no container on the default bridge");
    },
  },
  {
    id: "D-CTR-05",
    title: "No container holds network-administration powers",
    why: "NET_ADMIN, SYS_ADMIN or --privileged let a container change routes, firewall rules and interfaces of its namespace (and of the host's, with --network host).",
    fix: "--cap-drop=ALL --cap-add=<only what is needed>; no --privileged",
    reference: "CIS Docker Benchmark 5.4 (5.3 in older releases)",
    evaluate(facts) {
      const strong = facts.containers().flatMap((c) => {
        const caps = (c.HostConfig?.CapAdd ?? []).filter((cap) => /NET_ADMIN|SYS_ADMIN|ALL/.test(cap));
        return [
          ...(c.HostConfig?.Privileged ? [`${nameOf(c)}: --privileged`] : []),
          ...(caps.length ? [`${nameOf(c)}: --cap-add ${caps.join(",")}`] : []),
        ];
      });
      return strong.length
        ? finding("warn", listSome(strong))
        : ok("no container adds NET_ADMIN or SYS_ADMIN, none is privileged");
    },
  },
  {
    id: "D-CTR-06",
    title: "No container is stuck on a host port that is taken",
    why: 'A container whose host port is already in use fails to start, or restarts in a loop, with "address already in use" or "port is already allocated".',
    fix: "free the port (ss -ltnp 'sport = :PORT') or publish another one",
    reference: "Engine 28.0.1 release notes (moby#49507)",
    explains: ["PP-04"],
    evaluate(facts) {
      const stuck = facts.containers().filter((c) => c.State?.Restarting || PORT_CLASH.test(c.State?.Error ?? ""));
      const lines = stuck.map(
        (c) =>
          `${nameOf(c)}: ${c.State?.Restarting ? "restarting" : (c.State?.Status ?? "?")}${c.State?.Error ? ` (${c.State.Error})` : ""}`,
      );
      return stuck.some((c) => PORT_CLASH.test(c.State?.Error ?? ""))
        ? finding("error", listSome(lines))
        : lines.length
          ? finding("warn", listSome(lines))
          : ok("no container restarting or failing on a port");
    },
  },
];
