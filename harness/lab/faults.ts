import type { NetworkSpec } from "./network-spec.js";
import type { ServiceSpecResolved } from "./service-spec.js";
import type { EndpointSpec, NetworkRef, ProbeSpec } from "./probe-spec.js";
import type { ComposeProjectSpec, ComposeServiceSpec } from "./compose-spec.js";

/**
 * Deliberately broken setups. The lab can be told to build a scenario's world
 * wrongly in one known way, so that the project's tests can prove each
 * scenario notices: a verdict that cannot fail is worth nothing.
 */
export const LAB_FAULTS = {
  "default-bridge-is-user-network": "containers asked for the default bridge land on a user-defined bridge",
  "user-network-is-default-bridge": "containers asked for a user-defined network land on the default bridge",
  "host-network-is-default-bridge": "containers asked for the host network land on the default bridge",
  "none-network-is-default-bridge": "containers asked for no network land on the default bridge",
  "user-networks-icc-off": "user-defined bridges are created with enable_icc=false",
  "addresses-not-advertised":
    "user-defined bridges are created with com.docker.network.advertise_addr_nmsgs=0: no gratuitous ARP or unsolicited NA when a container joins",
  "network-options-ignored": "options given for a new network (subnet, MTU, icc, internal, prefix) are not applied",
  "detach-after-start": "containers are disconnected from their user-defined networks right after they start",
  "stopped-connect-dropped":
    "docker network connect to a container that is not running is acknowledged but never sent to the engine",
  "host-ports-taken": "every host port the lab hands out is already taken by another listener",
  "publish-dropped": "-p and -P options are not passed to the engine",
  "publish-host-ip-ignored": "-p HOST_IP:PORT:PORT publishes on every address (the host address is lost)",
  "servers-down": "servers a probe is asked to run are never started",
  "extra-hosts-dropped": "--add-host entries are not passed to the engine",
  "dns-settings-dropped": "--dns, --dns-search and --dns-option are not passed to the engine",
  "links-dropped": "--link options are not passed to the engine",
  "restart-policy-dropped": "--restart policies are not passed to the engine",
  "daemon-config-dropped": "scenarios that need their own daemon configuration get an engine started without it",
  "ipv6-on-every-network": "user-defined networks get an IPv6 subnet even when none was asked for",
  "ipv6-disabled-in-containers": "every container starts with --sysctl net.ipv6.conf.all.disable_ipv6=1",
  "unprivileged-defaults-reset":
    "containers start with the kernel's defaults: ports below 1024 need root, and no group may ping without a raw socket",
  "firewall-rules-first": "firewall rules appended to the engine host's chains are inserted before Docker's instead",
  "bridges-outside-firewalld-zone":
    "under firewalld, each new bridge is taken out of the docker zone, as an engine that never registered it with firewalld leaves it",
  "user-rules-in-forward":
    "rules asked for DOCKER-USER are appended to FORWARD instead, after Docker's jumps (as an administrator who skips DOCKER-USER does)",
  "macvlan-parent-wrong": "macvlan and ipvlan networks get a parent that leads nowhere, not the LAN asked for",
  // Multi-host labs:
  "data-path-blocked": "every lab node drops VXLAN (udp 4789, the overlay data path) from the others",
  "overlays-not-attachable": "overlays asked to be --attachable are created without it",
  "ingress-removed": "the swarm's ingress network is removed once the swarm is formed",
  "swarm-leave-skipped": "docker swarm leave is never sent to the node",
  "swarm-init-options-ignored": "options given to docker swarm init (data-path port, address pool) are not applied",
  "overlay-encryption-dropped": "overlays asked for -o encrypted are created in clear",
  "service-options-ignored": "a service's endpoint mode, publish mode and DNS options are not applied",
  "gw-priority-ignored":
    "the gateway priority asked for an endpoint (gw-priority, gw_priority) is not passed to the engine",
} as const;

export type LabFault = keyof typeof LAB_FAULTS;

export function isLabFault(name: string): name is LabFault {
  return Object.hasOwn(LAB_FAULTS, name);
}

/**
 * A fault as the (hidden) --fault option gives it: NAME for every scenario of
 * the run, ID=NAME for that scenario alone, or ID-N=NAME for its Nth attempt
 * under --repeat (a scope's id). One run can so prove several scenarios each
 * pass, and fail on their own broken setup: a slow VM boots once.
 */
export interface FaultChoice {
  readonly fault: LabFault;
  readonly scenario?: string;
}

export function parseFaultChoice(text: string): FaultChoice | undefined {
  const [scenario, name] = text.includes("=") ? text.split("=", 2) : [undefined, text];
  if (!name || !isLabFault(name)) return undefined;
  return scenario ? { fault: name, scenario } : { fault: name };
}

/** The faults of a run: those for every scenario, and those for one scenario or attempt (by its id or scope id). */
export interface RunFaults {
  readonly runWide: ReadonlySet<LabFault>;
  readonly byScenario: ReadonlyMap<string, ReadonlySet<LabFault>>;
}

export function splitFaults(faults: Iterable<LabFault | FaultChoice>): RunFaults {
  const runWide = new Set<LabFault>();
  const byScenario = new Map<string, Set<LabFault>>();
  for (const given of faults) {
    const { fault, scenario } = typeof given === "string" ? { fault: given, scenario: undefined } : given;
    if (scenario) byScenario.set(scenario, (byScenario.get(scenario) ?? new Set()).add(fault));
    else runWide.add(fault);
  }
  return { runWide, byScenario };
}

/** One scope's own faults: those named for its attempt (SCOPEID), else for its scenario. */
export function scopeFaults(faults: RunFaults, scopeId: string, scenarioId: string): ReadonlySet<LabFault> {
  return faults.byScenario.get(scopeId) ?? faults.byScenario.get(scenarioId) ?? new Set();
}

/** Applies, in the table's order, each transform whose fault `has` names. */
function applyFaults<S>(
  table: Partial<Record<LabFault, (spec: S) => S>>,
  spec: S,
  has: (fault: LabFault) => boolean,
): S {
  return Object.entries(table).reduce(
    (s, [fault, transform]) => (has(fault as LabFault) && transform ? transform(s) : s),
    spec,
  );
}

// What each fault does, as data: transforms applied where a spec becomes an engine call (the lab
// calls them there, and has no fault branch of its own for these). The evidence keeps what was asked.

/**
 * The probe faults, as transforms of a spec: the lab applies them where the
 * spec becomes an engine call, and nowhere else.
 */
export const PROBE_FAULTS = {
  "publish-dropped": (spec) => ({ ...spec, published: [], publishAll: false }),
  "publish-host-ip-ignored": (spec) => ({
    ...spec,
    published: spec.published.map(({ containerPort, hostPort }) => ({ containerPort, hostPort })),
  }),
  "links-dropped": (spec) => ({ ...spec, links: [] }),
  "restart-policy-dropped": ({ restartPolicy: _dropped, ...spec }) => spec,
  "extra-hosts-dropped": (spec) => ({ ...spec, extraHosts: [] }),
  "dns-settings-dropped": ({ dnsSearch: _search, dnsOptions: _options, ...spec }) => ({ ...spec, dnsServers: [] }),
  "servers-down": (spec) => ({ ...spec, servers: [] }),
  // The kernel's own values, as a runtime that did not set Docker's defaults would leave them.
  "unprivileged-defaults-reset": (spec) =>
    spec.networks.some(({ network }) => network.kind === "host" || network.kind === "container")
      ? spec
      : {
          ...spec,
          sysctls: {
            ...spec.sysctls,
            "net.ipv4.ip_unprivileged_port_start": "1024",
            "net.ipv4.ping_group_range": "1 0",
          },
        },
  // As some hardened defaults do; not for a container sharing another's namespace (it takes no namespaced sysctls).
  "ipv6-disabled-in-containers": (spec) =>
    spec.networks.some(({ network }) => network.kind === "host" || network.kind === "container")
      ? spec
      : { ...spec, sysctls: { ...spec.sysctls, "net.ipv6.conf.all.disable_ipv6": "1" } },
} satisfies Partial<Record<LabFault, (spec: ProbeSpec) => ProbeSpec>>;

/** The endpoint faults, as transforms of how a container joins a network (at create, or by connect). */
export const ENDPOINT_FAULTS = {
  "gw-priority-ignored": ({ gwPriority: _dropped, ...endpoint }) => endpoint,
} satisfies Partial<Record<LabFault, (endpoint: EndpointSpec) => EndpointSpec>>;

/** The endpoint the engine gets under the faults `has` names. */
/** Faults on `docker network connect`: whether the call reaches the engine, given the container's state. */
export const CONNECT_FAULTS = {
  "stopped-connect-dropped": (containerState) => containerState === "running",
} satisfies Partial<Record<LabFault, (containerState: string) => boolean>>;

/** Whether a connect is sent to the engine under the faults `has` names (the container's state is read only when one applies). */
export async function connectReachesEngine(
  has: (fault: LabFault) => boolean,
  containerState: () => Promise<string>,
): Promise<boolean> {
  for (const [fault, passes] of Object.entries(CONNECT_FAULTS))
    if (has(fault as LabFault) && !passes(await containerState())) return false;
  return true;
}

export const withEndpointFaults = (endpoint: EndpointSpec, has: (fault: LabFault) => boolean): EndpointSpec =>
  applyFaults(ENDPOINT_FAULTS, endpoint, has);

/** The spec the engine gets under the faults `has` names. */
export const withProbeFaults = (spec: ProbeSpec, has: (fault: LabFault) => boolean): ProbeSpec => {
  const faulty = applyFaults(PROBE_FAULTS, spec, has);
  return {
    ...faulty,
    networks: faulty.networks.map(({ network, endpoint }) => ({
      network,
      endpoint: withEndpointFaults(endpoint, has),
    })),
  };
};

/** The network faults, as transforms of what a scenario asked for. */
export const NETWORK_FAULTS = {
  // Everything but the driver (and, for overlays, what makes the network usable at all) is lost.
  "network-options-ignored": ({ driver, attachable, ingress, encrypted }) => ({
    ...(driver ? { driver } : {}),
    ...(attachable ? { attachable } : {}),
    ...(ingress ? { ingress } : {}),
    ...(encrypted ? { encrypted } : {}),
  }),
  "user-networks-icc-off": (spec) => ({
    ...spec,
    options: { ...spec.options, "com.docker.network.bridge.enable_icc": "false" },
    icc: false,
  }),
  "addresses-not-advertised": (spec) => ({
    ...spec,
    options: { ...spec.options, "com.docker.network.advertise_addr_nmsgs": "0" },
  }),
  "overlays-not-attachable": (spec) => ({ ...spec, attachable: false }),
  "overlay-encryption-dropped": (spec) => ({ ...spec, encrypted: false }),
  "ipv6-on-every-network": (spec) => (spec.ipv6 || spec.ipv6Subnet ? spec : { ...spec, ipv6Subnet: "pick" }),
} satisfies Partial<Record<LabFault, (spec: NetworkSpec) => NetworkSpec>>;

/** The spec the engine gets under the faults `has` names. */
export const withNetworkFaults = (spec: NetworkSpec, has: (fault: LabFault) => boolean): NetworkSpec =>
  applyFaults(NETWORK_FAULTS, spec, has);

/** The service faults, as transforms of a swarm service's spec. */
export const SERVICE_FAULTS = {
  // Endpoint mode, publish mode and DNS options fall back to the defaults.
  "service-options-ignored": ({ dns: _dropped, ...spec }) => ({
    ...spec,
    endpointMode: "vip",
    publish: spec.publish.map((p) => ({ ...p, mode: "ingress" as const })),
  }),
} satisfies Partial<Record<LabFault, (spec: ServiceSpecResolved) => ServiceSpecResolved>>;

/** The spec the engine gets under the faults `has` names. */
export const withServiceFaults = (spec: ServiceSpecResolved, has: (fault: LabFault) => boolean): ServiceSpecResolved =>
  applyFaults(SERVICE_FAULTS, spec, has);

/** The Compose faults, as transforms of a project's spec: the same broken setups, as Compose would meet them. */
export const COMPOSE_FAULTS = {
  "user-network-is-default-bridge": ({ services, ...spec }) => ({
    ...spec,
    services: mapServices(services, ({ networks: _dropped, ...service }) => ({
      ...service,
      networkMode: service.networkMode ?? "bridge",
    })),
  }),
  "network-options-ignored": ({ networks, ...spec }) => ({
    ...spec,
    ...(networks
      ? { networks: Object.fromEntries(Object.entries(networks).map(([k, { internal: _lost, ...n }]) => [k, n])) }
      : {}),
  }),
  "publish-host-ip-ignored": ({ services, ...spec }) => ({
    ...spec,
    services: mapServices(services, (service) =>
      service.ports ? { ...service, ports: service.ports.map((p) => p.split(":").slice(-2).join(":")) } : service,
    ),
  }),
  "servers-down": ({ services, ...spec }) => ({
    ...spec,
    services: mapServices(services, (service) => ({ ...service, serving: [] })),
  }),
  "gw-priority-ignored": ({ services, ...spec }) => ({
    ...spec,
    services: mapServices(services, (service) =>
      service.networks
        ? {
            ...service,
            networks: Object.fromEntries(
              Object.entries(service.networks).map(([key, { gwPriority: _dropped, ...endpoint }]) => [key, endpoint]),
            ),
          }
        : service,
    ),
  }),
} satisfies Partial<Record<LabFault, (spec: ComposeProjectSpec) => ComposeProjectSpec>>;

function mapServices(
  services: ComposeProjectSpec["services"],
  change: (service: ComposeServiceSpec) => ComposeServiceSpec,
): ComposeProjectSpec["services"] {
  return Object.fromEntries(Object.entries(services).map(([name, service]) => [name, change(service)]));
}

/** The project the engine gets under the faults `has` names. */
export const withComposeFaults = (spec: ComposeProjectSpec, has: (fault: LabFault) => boolean): ComposeProjectSpec =>
  applyFaults(COMPOSE_FAULTS, spec, has);

/** Where a container asked onto a network of one kind lands instead: the default bridge, or a user network the lab makes. */
export const ROUTING_FAULTS = {
  "default-bridge-is-user-network": { from: "default-bridge", to: "user" },
  "user-network-is-default-bridge": { from: "user", to: "default-bridge" },
  "host-network-is-default-bridge": { from: "host", to: "default-bridge" },
  "none-network-is-default-bridge": { from: "none", to: "default-bridge" },
} satisfies Partial<Record<LabFault, { from: NetworkRef["kind"]; to: "default-bridge" | "user" }>>;

/** Where a container asked onto a network of KIND lands under the faults `has` names (undefined: where it asked). */
export function misroutedTo(
  kind: NetworkRef["kind"],
  has: (fault: LabFault) => boolean,
): "default-bridge" | "user" | undefined {
  return Object.entries(ROUTING_FAULTS).find(([fault, route]) => route.from === kind && has(fault as LabFault))?.[1].to;
}

/** What an after-start fault may do to a probe that just started: leave one of its networks. */
export interface StartedProbeActions {
  disconnect(network: string): Promise<void>;
}

/** Faults that act once a probe runs, on the spec it was started from. */
export const AFTER_START_FAULTS = {
  "detach-after-start": async (spec, probe) => {
    for (const { network } of spec.networks.filter((n) => n.network.kind === "user"))
      await probe.disconnect(network.name);
  },
} satisfies Partial<Record<LabFault, (spec: ProbeSpec, probe: StartedProbeActions) => Promise<void>>>;

/** Runs the after-start faults `has` names. */
export async function afterStartFaults(
  spec: ProbeSpec,
  probe: StartedProbeActions,
  has: (fault: LabFault) => boolean,
): Promise<void> {
  for (const [fault, act] of Object.entries(AFTER_START_FAULTS)) if (has(fault as LabFault)) await act(spec, probe);
}

/**
 * The world a lab scope builds around a scenario's containers, as data: what a scenario gets when it
 * asks for a host port, a server, a firewall rule appended, a LAN to hang macvlan networks on.
 */
export interface ScopeWorld {
  /** A host port handed out is already listened on by another process. */
  readonly hostPortsTaken: boolean;
  /** Servers asked for (a probe's httpd, a stub DNS server) run. */
  readonly serversRun: boolean;
  /** A rule appended to one of the engine host's chains goes in first instead. */
  readonly appendedRulesGoFirst: boolean;
  /** A rule asked for DOCKER-USER is appended to FORWARD instead. */
  readonly userRulesInForward: boolean;
  /** The parent a LAN offers macvlan and ipvlan networks: the LAN itself, or a link that leads nowhere. */
  readonly lanParent: "lan" | "dead-end";
  /** Under firewalld, a new bridge stays in the zone the engine put it in (docker). */
  readonly bridgesInFirewalldZone: boolean;
}

export const HEALTHY_WORLD: ScopeWorld = {
  hostPortsTaken: false,
  serversRun: true,
  appendedRulesGoFirst: false,
  userRulesInForward: false,
  lanParent: "lan",
  bridgesInFirewalldZone: true,
};

export const WORLD_FAULTS = {
  "host-ports-taken": (world) => ({ ...world, hostPortsTaken: true }),
  "servers-down": (world) => ({ ...world, serversRun: false }),
  "firewall-rules-first": (world) => ({ ...world, appendedRulesGoFirst: true }),
  "user-rules-in-forward": (world) => ({ ...world, userRulesInForward: true }),
  "macvlan-parent-wrong": (world) => ({ ...world, lanParent: "dead-end" }),
  "bridges-outside-firewalld-zone": (world) => ({ ...world, bridgesInFirewalldZone: false }),
} satisfies Partial<Record<LabFault, (world: ScopeWorld) => ScopeWorld>>;

/** The world a scope builds under the faults `has` names. */
export const scopeWorld = (has: (fault: LabFault) => boolean): ScopeWorld =>
  applyFaults(WORLD_FAULTS, HEALTHY_WORLD, has);

/**
 * A swarm as docknet's lab keeps it, as data: what the nodes carry, and what `swarm leave` and
 * `swarm init` options do.
 */
export interface SwarmWorld {
  /** The ingress network exists (the routing mesh needs it). */
  readonly ingress: boolean;
  /** The nodes exchange VXLAN (the overlay data path). */
  readonly dataPathOpen: boolean;
  /** `swarm leave` reaches the node. */
  readonly leaveSent: boolean;
  /** Options given to `swarm init` are applied. */
  readonly initOptionsApplied: boolean;
}

export const HEALTHY_SWARM: SwarmWorld = {
  ingress: true,
  dataPathOpen: true,
  leaveSent: true,
  initOptionsApplied: true,
};

export const SWARM_FAULTS = {
  "ingress-removed": (swarm) => ({ ...swarm, ingress: false }),
  "data-path-blocked": (swarm) => ({ ...swarm, dataPathOpen: false }),
  "swarm-leave-skipped": (swarm) => ({ ...swarm, leaveSent: false }),
  "swarm-init-options-ignored": (swarm) => ({ ...swarm, initOptionsApplied: false }),
} satisfies Partial<Record<LabFault, (swarm: SwarmWorld) => SwarmWorld>>;

/** The swarm under the faults `has` names. */
export const swarmWorld = (has: (fault: LabFault) => boolean): SwarmWorld =>
  applyFaults(SWARM_FAULTS, HEALTHY_SWARM, has);
