import type Docker from "dockerode";

/** A user-defined network as a scenario asks for it. */
export interface NetworkSpec {
  readonly driver?: string;
  /** A CIDR, or "pick" to have the lab choose one that collides with nothing. */
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ipRange?: string;
  /** `--aux-address NAME=IP`: addresses of the IPv4 subnet the engine must never give a container. */
  readonly auxAddresses?: Readonly<Record<string, string>>;
  readonly internal?: boolean;
  readonly mtu?: number;
  readonly icc?: boolean;
  readonly interfacePrefix?: string;
  readonly options?: Record<string, string>;
  /** An IPv6 subnet as well: a CIDR, or "pick" for a ULA /64 of this run's own. */
  readonly ipv6Subnet?: string;
  readonly ipv6Gateway?: string;
  /** More IPv4 subnets on the same network (multi-subnet macvlan and ipvlan). */
  readonly moreSubnets?: readonly string[];
  /** IPv6 on, with no subnet given: the engine takes one from its IPv6 address pools. */
  readonly ipv6?: boolean;
  /** `--ipv4=false`: no IPv4 on the network (Engine 28.0; older engines ignore it). */
  readonly ipv4?: false;
  /** Overlays: standalone containers may join (`--attachable`). */
  readonly attachable?: boolean;
  /** Overlays: the swarm's routing-mesh network (`--ingress`). */
  readonly ingress?: boolean;
  /** Overlays: IPsec between nodes (`-o encrypted`). */
  readonly encrypted?: boolean;
}

/** A network ready to create: named, its driver chosen, every "pick" made. */
export interface ResolvedNetworkSpec extends NetworkSpec {
  readonly name: string;
  readonly driver: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The driver options the spec's named settings stand for, with the options given as they are. */
function driverOptions(spec: NetworkSpec): Record<string, string> {
  const options: Record<string, string> = { ...spec.options };
  if (spec.mtu !== undefined) options["com.docker.network.driver.mtu"] = String(spec.mtu);
  if (spec.icc !== undefined) options["com.docker.network.bridge.enable_icc"] = String(spec.icc);
  if (spec.interfacePrefix) options["com.docker.network.container_iface_prefix"] = spec.interfacePrefix;
  if (spec.encrypted) options.encrypted = "";
  return options;
}

/** IPv6 on: a subnet given (or picked), or asked for from the engine's pools. */
const ipv6On = (spec: NetworkSpec) => spec.ipv6Subnet !== undefined || spec.ipv6 === true;

/** The engine call (POST /networks/create). */
export function networkCreateOptions(spec: ResolvedNetworkSpec): Docker.NetworkCreateOptions {
  const ipam: Docker.IPAM["Config"] = [];
  if (spec.subnet)
    ipam.push({
      Subnet: spec.subnet,
      ...(spec.gateway ? { Gateway: spec.gateway } : {}),
      ...(spec.ipRange ? { IPRange: spec.ipRange } : {}),
      ...(spec.auxAddresses ? { AuxiliaryAddresses: { ...spec.auxAddresses } } : {}),
    });
  for (const extra of spec.moreSubnets ?? []) ipam.push({ Subnet: extra });
  if (spec.ipv6Subnet)
    ipam.push({ Subnet: spec.ipv6Subnet, ...(spec.ipv6Gateway ? { Gateway: spec.ipv6Gateway } : {}) });
  const body: Docker.NetworkCreateOptions & { EnableIPv4?: boolean } = {
    Name: spec.name,
    Driver: spec.driver,
    CheckDuplicate: true,
    Internal: spec.internal ?? false,
    EnableIPv6: ipv6On(spec),
    Labels: { ...spec.labels },
    Options: driverOptions(spec),
  };
  // Not in dockerode's types yet (API 1.48); engines before it ignore the field.
  if (spec.ipv4 === false) body.EnableIPv4 = false;
  if (spec.attachable) body.Attachable = true;
  if (spec.ingress) body.Ingress = true;
  if (ipam.length) body.IPAM = { Driver: "default", Config: ipam };
  return body;
}

/** The `docker network create` line a user would type for the same network (evidence). */
export function networkCommandLine(spec: ResolvedNetworkSpec): string {
  const args = [`-d ${spec.driver}`];
  if (spec.subnet) {
    args.push(`--subnet ${spec.subnet}`);
    if (spec.gateway) args.push(`--gateway ${spec.gateway}`);
    if (spec.ipRange) args.push(`--ip-range ${spec.ipRange}`);
    Object.entries(spec.auxAddresses ?? {}).forEach(([name, ip]) => args.push(`--aux-address ${name}=${ip}`));
  }
  (spec.moreSubnets ?? []).forEach((extra) => args.push(`--subnet ${extra}`));
  if (ipv6On(spec)) args.push("--ipv6");
  if (spec.ipv6Subnet) {
    args.push(`--subnet ${spec.ipv6Subnet}`);
    if (spec.ipv6Gateway) args.push(`--gateway ${spec.ipv6Gateway}`);
  }
  if (spec.ipv4 === false) args.push("--ipv4=false");
  if (spec.internal) args.push("--internal");
  if (spec.attachable) args.push("--attachable");
  if (spec.ingress) args.push("--ingress");
  // `-o encrypted` takes no value.
  Object.entries(driverOptions(spec)).forEach(([key, value]) =>
    args.push(value === "" ? `-o ${key}` : `-o ${key}=${value}`),
  );
  return `docker network create ${args.join(" ")} ${spec.name}`;
}
