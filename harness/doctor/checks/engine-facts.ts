import { compareVersions } from "../../capabilities.js";
import type { ContainerInfo, Facts, NetworkInfo, PortBinding } from "../facts.js";

/** Facts several checks derive from the same readings, named once. */

/** The host interfaces Docker made for its bridge networks (docker0, br-<id>, or a named bridge). */
export function dockerBridgeNames(networks: readonly NetworkInfo[]): Set<string> {
  const names = new Set<string>();
  for (const n of networks) {
    if (n.Driver !== "bridge") continue;
    names.add(
      n.Options?.["com.docker.network.bridge.name"] ?? (n.Name === "bridge" ? "docker0" : `br-${n.Id.slice(0, 12)}`),
    );
  }
  return names;
}

export function subnetsOf(network: NetworkInfo): string[] {
  return (network.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => Boolean(s));
}

export function engineBefore(facts: Facts, version: string): boolean {
  return compareVersions(facts.engineVersion(), version) < 0;
}

export interface PublishedPort {
  readonly container: string;
  readonly containerPort: string;
  readonly hostIp: string;
  readonly hostPort: number;
}

export function publishedPorts(containers: readonly ContainerInfo[]): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const c of containers) {
    for (const [containerPort, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
      for (const b of (bindings ?? []) as PortBinding[]) {
        out.push({
          container: c.Name.replace(/^\//, ""),
          containerPort,
          hostIp: b.HostIp ?? "",
          hostPort: Number(b.HostPort ?? 0),
        });
      }
    }
  }
  return out;
}

export const isWildcard = (hostIp: string): boolean => hostIp === "" || hostIp === "0.0.0.0" || hostIp === "::";

export function describePort(p: PublishedPort): string {
  const ip = p.hostIp === "" ? "*" : p.hostIp.includes(":") ? `[${p.hostIp}]` : p.hostIp;
  return `${p.container}: ${ip}:${p.hostPort} -> ${p.containerPort}`;
}

/** The engine runs with iptables management off (daemon.json or --iptables=false). */
export function iptablesDisabled(facts: Facts): boolean {
  return facts.daemonSetting("iptables") === false;
}

/** Lists at most a few items, then how many more: evidence stays readable on a busy host. */
export function listSome(items: readonly string[], max = 8): string[] {
  return items.length <= max ? [...items] : [...items.slice(0, max), `… and ${items.length - max} more`];
}
