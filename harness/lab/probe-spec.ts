import type Docker from "dockerode";

/** A network a probe can join: the engine's own (bridge, host, none), one the lab made, or another container's. */
export interface NetworkRef {
  readonly name: string;
  readonly kind: "default-bridge" | "host" | "none" | "user" | "container";
  /** The driver, for networks the lab made ("bridge", "macvlan", "overlay", ...). */
  readonly driver?: string;
}

/** How a container joins one network: `--network-alias`, `--ip`, `--ip6`, and links on a user network. */
export interface EndpointSpec {
  readonly aliases?: string[];
  readonly ip?: string;
  /** `--ip6`: a static IPv6 address. */
  readonly ip6?: string;
  /** Legacy links on a user-defined network are endpoint settings ("target:alias"). */
  readonly links?: string[];
  /** `gw-priority` (Engine 28.0, API 1.48): the endpoint with the highest gives the default route. */
  readonly gwPriority?: number;
}

export interface PublishedPort {
  /** "80/tcp", "53/udp". */
  readonly containerPort: string;
  /** A port, a range "9090-9092", or "" for an ephemeral one. */
  readonly hostPort: string;
  readonly hostIp?: string;
}

/**
 * One probe, described once: what a scenario asked for. The engine call
 * (probeContainerConfig) and the `docker run` line shown as evidence
 * (probeCommandLine) are both derived from it, so they cannot drift apart.
 */
export interface ProbeSpec {
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The first is joined at creation, the others before start. */
  readonly networks: readonly { readonly network: NetworkRef; readonly endpoint: EndpointSpec }[];
  readonly published: readonly PublishedPort[];
  /** "80/tcp" */
  readonly exposed: readonly string[];
  readonly publishAll: boolean;
  readonly links: readonly { readonly target: string; readonly alias: string }[];
  readonly extraHosts: readonly { readonly host: string; readonly ipAddress: string }[];
  readonly environment: Readonly<Record<string, string>>;
  readonly dnsServers: readonly string[];
  /** `--dns-search DOMAIN` ("." for none). */
  readonly dnsSearch?: readonly string[];
  /** `--dns-option OPTION` (resolv.conf's options line). */
  readonly dnsOptions?: readonly string[];
  readonly sysctls: Readonly<Record<string, string>>;
  /** `--cap-add CAP`: what every probe on this engine needs that its defaults lack (lab.ts, probeCapabilities). */
  readonly capAdd?: readonly string[];
  readonly hostname?: string;
  /** TCP servers (busybox httpd) the probe runs from its start. */
  readonly servers: readonly number[];
  /** `--restart POLICY`: what the engine does when the container exits or the daemon restarts. */
  readonly restartPolicy?: "always" | "unless-stopped";
}

/** A spec with nothing but its networks and servers: the swarm's standalone probes. */
export function plainProbeSpec(base: Pick<ProbeSpec, "name" | "image" | "labels" | "networks" | "servers">): ProbeSpec {
  return {
    ...base,
    published: [],
    exposed: [],
    publishAll: false,
    links: [],
    extraHosts: [],
    environment: {},
    dnsServers: [],
    sysctls: {},
  };
}

/** Written by a probe's start script once its servers listen (busybox httpd binds before it daemonizes). */
export const READY_MARK = "/tmp/docknet-ready";

/**
 * A probe's command: its servers (busybox httpd), the ready mark, then a long sleep that keeps it
 * alive for exec. As PID 1 the shell would ignore SIGTERM, so `docker stop` and a daemon restart
 * would wait out the 10 s stop timeout: it exits on TERM instead.
 */
export function probeStartScript(servers: readonly number[]): string {
  return `trap 'exit 0' TERM; ${servers.map((port) => `httpd -p ${port} -h /www;`).join(" ")} touch ${READY_MARK}; sleep 2147483647 & wait`;
}

/** The Docker API's settings for one endpoint. */
export function endpointConfig(endpoint: EndpointSpec): Docker.EndpointSettings {
  const settings: Docker.EndpointSettings = {};
  if (endpoint.aliases?.length) settings.Aliases = endpoint.aliases;
  if (endpoint.ip || endpoint.ip6) {
    settings.IPAMConfig = {};
    if (endpoint.ip) settings.IPAMConfig.IPv4Address = endpoint.ip;
    if (endpoint.ip6) settings.IPAMConfig.IPv6Address = endpoint.ip6;
  }
  if (endpoint.links?.length) settings.Links = endpoint.links;
  // dockerode's types predate API 1.48.
  if (endpoint.gwPriority !== undefined) Object.assign(settings, { GwPriority: endpoint.gwPriority });
  return settings;
}

/** `docker network connect`'s flags for an endpoint (and the network and container after them). */
export function connectCommandLine(endpoint: EndpointSpec, network: string, container: string): string {
  const flags = [
    ...(endpoint.aliases ?? []).map((alias) => `--alias ${alias}`),
    ...(endpoint.ip ? [`--ip ${endpoint.ip}`] : []),
    ...(endpoint.ip6 ? [`--ip6 ${endpoint.ip6}`] : []),
    ...(endpoint.links ?? []).map((link) => `--link ${link}`),
    ...(endpoint.gwPriority !== undefined ? [`--gw-priority ${endpoint.gwPriority}`] : []),
  ];
  return ["docker network connect", ...flags, network, container].join(" ");
}

/** The engine call: the create body, and the networks to join after creation, before start. */
export interface ProbeContainerConfig {
  readonly create: Docker.ContainerCreateOptions & { name: string; HostConfig: Docker.HostConfig };
  readonly joinBeforeStart: readonly { readonly network: string; readonly endpoint: Docker.EndpointSettings }[];
}

const linkText = ({ target, alias }: { target: string; alias: string }) => `${target}:${alias}`;

export function probeContainerConfig(spec: ProbeSpec): ProbeContainerConfig {
  const [first, ...rest] = spec.networks;
  const host: Docker.HostConfig = {};
  const create: ProbeContainerConfig["create"] = {
    name: spec.name,
    Image: spec.image,
    Labels: { ...spec.labels },
    Cmd: ["sh", "-c", probeStartScript(spec.servers)],
    HostConfig: host,
  };
  if (first) {
    host.NetworkMode = first.network.name;
    // On user-defined networks a link is only a scoped alias, carried by the endpoint (as the CLI does).
    const userLinks = first.network.kind === "user" && spec.links.length > 0;
    const endpoint = userLinks ? { ...first.endpoint, links: spec.links.map(linkText) } : first.endpoint;
    const settings = endpointConfig(endpoint);
    // A namespace mode (host, none, container:) has no endpoint: Podman refuses one, even empty.
    const namespaceMode = ["host", "none", "container"].includes(first.network.kind);
    if (!namespaceMode || Object.keys(settings).length > 0)
      create.NetworkingConfig = { EndpointsConfig: { [first.network.name]: settings } };
    if (!userLinks && spec.links.length > 0) host.Links = spec.links.map(linkText);
  }
  const exposed = [...new Set([...spec.published.map((p) => p.containerPort), ...spec.exposed])];
  if (exposed.length) create.ExposedPorts = Object.fromEntries(exposed.map((port) => [port, {}]));
  if (spec.published.length) {
    const bindings: Docker.PortMap = {};
    for (const { containerPort, hostPort, hostIp } of spec.published) {
      bindings[containerPort] = [
        ...(bindings[containerPort] ?? []),
        { HostPort: hostPort, ...(hostIp ? { HostIp: hostIp } : {}) },
      ];
    }
    host.PortBindings = bindings;
  }
  if (spec.publishAll) host.PublishAllPorts = true;
  if (spec.extraHosts.length)
    host.ExtraHosts = spec.extraHosts.map(({ host: name, ipAddress }) => `${name}:${ipAddress}`);
  if (Object.keys(spec.environment).length) create.Env = Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`);
  if (spec.dnsServers.length) host.Dns = [...spec.dnsServers];
  if (spec.dnsSearch?.length) host.DnsSearch = [...spec.dnsSearch];
  if (spec.dnsOptions?.length) host.DnsOptions = [...spec.dnsOptions];
  if (Object.keys(spec.sysctls).length) host.Sysctls = { ...spec.sysctls };
  if (spec.capAdd?.length) host.CapAdd = [...spec.capAdd];
  if (spec.hostname) create.Hostname = spec.hostname;
  if (spec.restartPolicy) host.RestartPolicy = { Name: spec.restartPolicy };
  return {
    create,
    joinBeforeStart: rest.map(({ network, endpoint }) => ({
      network: network.name,
      endpoint: endpointConfig(endpoint),
    })),
  };
}

/** The `docker run` line a user would type for the same probe (evidence: a pasteable `how`); `-H HOST` for a swarm node. */
export function probeCommandLine(spec: ProbeSpec, options: { readonly dockerHost?: string } = {}): string {
  const args: string[] = [];
  for (const [index, { network, endpoint }] of spec.networks.entries()) {
    args.push(
      endpoint.gwPriority !== undefined
        ? `--network name=${network.name},gw-priority=${endpoint.gwPriority}`
        : `--network ${network.name}`,
    );
    // `docker run` takes aliases and addresses for its first network only; later ones are `docker network connect`.
    if (index === 0) {
      endpoint.aliases?.forEach((alias) => args.push(`--network-alias ${alias}`));
      if (endpoint.ip) args.push(`--ip ${endpoint.ip}`);
      if (endpoint.ip6) args.push(`--ip6 ${endpoint.ip6}`);
    }
  }
  for (const { containerPort, hostPort, hostIp } of spec.published) {
    args.push(`-p ${hostIp ? `${hostIp}:` : ""}${hostPort ? `${hostPort}:` : ""}${containerPort.replace("/tcp", "")}`);
  }
  spec.exposed.forEach((port) => args.push(`--expose ${port.replace("/tcp", "")}`));
  if (spec.publishAll) args.push("-P");
  spec.links.forEach((link) => args.push(`--link ${linkText(link)}`));
  spec.extraHosts.forEach(({ host, ipAddress }) => args.push(`--add-host ${host}:${ipAddress}`));
  Object.entries(spec.environment).forEach(([k, v]) => args.push(`-e ${k}=${v}`));
  spec.dnsServers.forEach((server) => args.push(`--dns ${server}`));
  spec.dnsSearch?.forEach((domain) => args.push(`--dns-search ${domain}`));
  spec.dnsOptions?.forEach((option) => args.push(`--dns-option ${option}`));
  Object.entries(spec.sysctls).forEach(([name, value]) => args.push(`--sysctl ${name}=${value}`));
  spec.capAdd?.forEach((cap) => args.push(`--cap-add ${cap}`));
  if (spec.hostname) args.push(`--hostname ${spec.hostname}`);
  if (spec.restartPolicy) args.push(`--restart ${spec.restartPolicy}`);
  const docker = options.dockerHost ? `docker -H ${options.dockerHost}` : "docker";
  return `${docker} run -d --name ${spec.name} ${args.join(" ")} ${spec.image}`.replace(/ {2,}/g, " ");
}
