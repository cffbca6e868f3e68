import type Docker from "dockerode";
import { getContainerRuntimeClient } from "testcontainers";
import { abandonOnCancel, cancellationPoint } from "../cancellation.js";
import { subnetsOverlap } from "../cidr.js";
import { runInNetns, type NetnsRef } from "../engine/netns.js";
import {
  createDeadEndLink,
  createOutsideLink,
  narrowOutsideLink,
  addDetour,
  removeDetour,
  outsideHandle,
  type OutsideHost,
  type OutsideLink,
} from "../engine/outside-host.js";
import type { Evidence, Observation } from "../evidence.js";
import { observeUntil } from "../polling.js";
import { errorText } from "./docker-api.js";
import { ComposeProjects } from "./compose-projects.js";
import { DnsServers } from "./dns-servers.js";
import { EngineHostActions } from "./engine-host-actions.js";
import { defaultBridgeNameOf, engineFamily, probeCapabilitiesOf, type ProfileSources } from "../engine-profile.js";
import {
  misroutedTo,
  scopeFaults,
  splitFaults,
  withEndpointFaults,
  withNetworkFaults,
  scopeWorld,
  type FaultChoice,
  connectReachesEngine,
  type LabFault,
  type RunFaults,
  type ScopeWorld,
} from "./faults.js";
import { RUN_LABEL, SCENARIO_LABEL, resourceName, runLabels } from "./labels.js";
import type { ApiOutcome, ContainerFacts, LabNetwork, NetworkFacts } from "./lab-types.js";
import {
  networkCommandLine,
  networkCreateOptions,
  type NetworkSpec,
  type ResolvedNetworkSpec,
} from "./network-spec.js";
import { OutsideWorld } from "./outside-world.js";
import { ProbeBuilder, ScopeProbeLauncher } from "./probe-builder.js";
import { connectCommandLine, endpointConfig, type EndpointSpec, type NetworkRef } from "./probe-spec.js";
import { listeningPortsInProcNet } from "./probe-output.js";
import { Probe } from "./probe.js";
import { SharedTopologies, type Topology, type TopologyMembers, type TopologyUse } from "./shared-topology.js";
import { NetworkCreationGate } from "./network-creation-gate.js";
import { sweep } from "./sweep.js";
import { UndoStack } from "./undo-stack.js";

/** A network a probe can join: the engine's own (bridge, host, none) or one the lab made. */
export type { EndpointSpec, NetworkRef } from "./probe-spec.js";

export type { ApiOutcome, ContainerFacts, LabNetwork, NetworkFacts } from "./lab-types.js";
export type { NetworkSpec } from "./network-spec.js";

const HOST_NETWORK: NetworkRef = { name: "host", kind: "host" };

/** Candidate /24 blocks for subnets the lab picks itself. */
const SUBNET_POOL = Array.from({ length: 256 }, (_, i) => `10.213.${i}.0/24`);

export interface LabOptions {
  readonly runId: string;
  readonly image: string;
  readonly faults?: Iterable<LabFault | FaultChoice>;
  readonly outsideHost?: OutsideHost;
  readonly engineNetns?: string;
  readonly engineHostNetns?: NetnsRef;
  readonly restartEngine?: (daemonConfig: Record<string, unknown>) => Promise<void>;
  readonly networkDriver?: string;
  /** The default bridge's name (bridge; podman on Podman): found by Lab.open. */
  readonly defaultBridgeName?: string;
  /** Capabilities every probe gets beyond the engine's defaults: found by Lab.open. */
  readonly probeCapabilities?: readonly string[];
  readonly macvlanParent?: string;
  readonly engineResolvConf?: string;
  /** The D-Bus of the firewalld on a private engine's host (--firewall firewalld). */
  readonly firewalldBus?: string;
  /** A private engine's daemon log, for failure bundles. */
  readonly engineLog?: string;
  /** The engine's socket, for tools that talk to it themselves (Compose). */
  readonly dockerHost?: string;
  /** The Compose v2 binary the compose scenarios run. */
  readonly composeBinary?: string;
}

/**
 * The per-run resource manager on one engine: everything it creates carries
 * the run label and a name prefix, and everything it creates it removes.
 * Nothing but the lab talks to Docker.
 */
export class Lab {
  private readonly reservedSubnets = new Set<string>();
  private subnetLock: Promise<unknown> = Promise.resolve();
  private hostRoutes?: Promise<string[]>;
  /** Containers this lab has started, for the benchmark's cost model. */
  containersStarted = 0;
  /** The topologies read-only scenarios share (shared-topology.ts). */
  readonly topologies: SharedTopologies<LabScope>;
  /** Network creations and "cannot reach" checks kept apart (Docker before 28 lifts isolation while it creates one). */
  readonly networkCreation = new NetworkCreationGate();

  readonly runId: string;
  readonly image: string;
  readonly faults: ReadonlySet<LabFault>;
  /** All the run's faults, with those for one scenario or attempt (--fault ID=NAME). */
  private readonly runFaults: RunFaults;
  private readonly outsideHost: OutsideHost | undefined;
  /** A private engine's network namespace: docknet's own, so scenarios may change its firewall. */
  readonly engineNetns: string | undefined;
  /**
   * The namespace of the engine's host, where docknet can run commands: a
   * private engine's, or the local dockerd's (as root). Reads, and docknet's
   * own links, happen there; the firewall is changed only in engineNetns.
   */
  readonly engineHostNetns: NetnsRef | undefined;
  /** Restarts a private engine's dockerd with another daemon.json. */
  readonly restartEngine: ((daemonConfig: Record<string, unknown>) => Promise<void>) | undefined;
  /** The driver of user-defined networks that do not name one (`docknet run --driver`). */
  readonly networkDriver: string;
  /** The default bridge network's name. */
  readonly defaultBridgeName: string;
  /** What every probe is given beyond the engine's default capabilities (probeCapabilitiesOf); the run header and each probe's `how` show the --cap-add. */
  readonly probeCapabilities: readonly string[];
  /** The interface the user named for macvlan networks (`--macvlan-parent`); docknet's own links otherwise. */
  readonly macvlanParent: string | undefined;
  /** The /etc/resolv.conf a private engine's dockerd sees (a file of its own). */
  readonly engineResolvConf: string | undefined;
  /** The D-Bus of the firewalld on the engine's host, when docknet started one there. */
  readonly firewalldBus: string | undefined;
  /** A private engine's daemon log (failure bundles quote the lines of a scenario's time). */
  readonly engineLog: string | undefined;
  /** The engine's socket, for Compose. */
  readonly dockerHost: string | undefined;
  /** The Compose v2 binary the compose scenarios run. */
  readonly composeBinary: string | undefined;

  private constructor(
    readonly docker: Docker,
    options: LabOptions,
  ) {
    this.runId = options.runId;
    this.image = options.image;
    this.runFaults = splitFaults(options.faults ?? []);
    this.faults = this.runFaults.runWide;
    this.outsideHost = options.outsideHost;
    this.engineNetns = options.engineNetns;
    this.engineHostNetns = options.engineHostNetns ?? options.engineNetns;
    this.restartEngine = options.restartEngine;
    this.networkDriver = options.networkDriver ?? "bridge";
    this.defaultBridgeName = options.defaultBridgeName ?? "bridge";
    this.probeCapabilities = options.probeCapabilities ?? [];
    this.macvlanParent = options.macvlanParent;
    this.engineResolvConf = options.engineResolvConf;
    this.firewalldBus = options.firewalldBus;
    this.engineLog = options.engineLog;
    this.dockerHost = options.dockerHost;
    this.composeBinary = options.composeBinary;
    this.topologies = new SharedTopologies(docker, (scopeId, faults) => new LabScope(this, scopeId, { faults }));
  }

  /** The engine connection testcontainers made (to DOCKER_HOST): one connection for containers and networks. */
  static async connection(): Promise<Docker> {
    return (await getContainerRuntimeClient()).container.dockerode;
  }

  static async open(options: LabOptions): Promise<Lab> {
    const docker = await Lab.connection();
    const family = engineFamily((await docker.version()) as ProfileSources["version"]);
    return new Lab(docker, {
      ...options,
      defaultBridgeName: defaultBridgeNameOf(family),
      probeCapabilities: probeCapabilitiesOf(family),
    });
  }

  private namedParentHeld: Promise<void> = Promise.resolve();

  /**
   * Waits until no other scenario uses the named macvlan parent, and holds it:
   * engines before 27.0 take one macvlan network per parent. Returns the release.
   */
  async holdNamedParent(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const before = this.namedParentHeld;
    this.namedParentHeld = before.then(() => held);
    await before;
    return release;
  }

  labels(scenarioId?: string): Record<string, string> {
    return runLabels(this.runId, scenarioId);
  }

  /** A scenario's view of the lab: resources named and labelled for that scenario. */
  /** A scope for one scenario's attempt (SCOPEID, e.g. "DNS-01-2" for a repeat) of the scenario SCENARIOID. */
  scope(scopeId: string, scenarioId = scopeId): LabScope {
    return new LabScope(this, scopeId, { faults: scopeFaults(this.runFaults, scopeId, scenarioId) });
  }

  private observer?: Promise<Probe>;
  private outsideProbe?: Probe;

  /** Whether the lab was told to build the world wrongly in this way (see faults.ts), for every scenario or for SCENARIOID. */
  /** The faults a scenario runs under (the run's, and its own), as `--fault` gives them to a child run. */
  faultsFor(scenarioId: string): LabFault[] {
    return [...new Set([...this.faults, ...scopeFaults(this.runFaults, scenarioId, scenarioId)])];
  }

  hasFault(fault: LabFault, scenarioId?: string): boolean {
    return (
      this.faults.has(fault) ||
      (scenarioId !== undefined && scopeFaults(this.runFaults, scenarioId, scenarioId).has(fault))
    );
  }

  /** Where busybox's applets are on this machine (the outside host's), for commands on the engine's host. */
  outsideBinDir(): string | undefined {
    return this.outsideHost?.binDir;
  }

  /** The outside host's view: requests made from the world beyond the engine's host. */
  outside(): Probe | undefined {
    if (!this.outsideHost) return undefined;
    this.outsideProbe ??= new Probe(outsideHandle(this.outsideHost), "outside");
    return this.outsideProbe;
  }

  /**
   * One probe on the host network, shared by every scenario of the run, that
   * looks at the engine's host from outside the scenario's own containers.
   * Faults never apply to it: it is the witness, not the subject.
   */
  hostObserver(): Promise<Probe> {
    this.observer ??= new LabScope(this, "shared", { faultFree: true }).probe("host-observer").on(HOST_NETWORK).start();
    return this.observer;
  }

  /** After a daemon restart (which stops containers without a restart policy): the shared observer runs again. */
  async engineRestarted(): Promise<void> {
    const observer = await this.observer?.catch(() => undefined);
    if (observer)
      await this.docker
        .getContainer(observer.id)
        .start()
        .catch(() => undefined); // 304: already running
  }

  /** Picks a /24 that overlaps no network on the engine, no route on its host, and no other pick. */
  async pickSubnet(): Promise<string> {
    const pick = this.subnetLock.then(async () => {
      const networks = await this.docker.listNetworks();
      const taken = networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")).filter(Boolean);
      const routes = await this.engineHostRoutes();
      const subnet = SUBNET_POOL.find(
        (candidate) =>
          !this.reservedSubnets.has(candidate) &&
          !taken.some((t) => subnetsOverlap(candidate, t)) &&
          !routes.some((r) => subnetsOverlap(candidate, r)),
      );
      if (!subnet) throw new Error("no free /24 left in 10.213.0.0/16 for lab networks");
      this.reservedSubnets.add(subnet);
      return subnet;
    });
    this.subnetLock = pick.catch(() => undefined);
    return pick;
  }

  private portLock: Promise<unknown> = Promise.resolve();
  private nextPort?: number;

  /**
   * `count` consecutive host ports that nothing listens on now and that no
   * other scenario of this run was given. Runs start at different places in
   * 20000-31999, so that two runs on one engine rarely meet. Below Linux's ephemeral range (from
   * 32768): a port there can be the local end of any connection on the host, which no listening
   * check sees, and a server's bind then fails (HOST-06 met one on a system engine).
   */
  async allocateHostPorts(count: number): Promise<number[]> {
    const allocation = this.portLock.then(async () => {
      const busy = await this.listeningOnEngineHost();
      let port = (this.nextPort ??= 20_000 + (hashText(this.runId) % 240) * 50);
      for (let tries = 0; tries < 12_000; tries++, port++) {
        if (port + count > 32_000) port = 20_000;
        const run = Array.from({ length: count }, (_, i) => port + i);
        if (run.every((p) => !busy.has(p))) {
          this.nextPort = port + count;
          return run;
        }
      }
      throw new Error("no free host ports left in 20000-31999");
    });
    this.portLock = allocation.catch(() => undefined);
    return allocation;
  }

  /**
   * The TCP ports something listens on in the engine host's namespace: read there when docknet can
   * run commands on that host (a process, not an exec in a container), else by the host observer.
   */
  private async listeningOnEngineHost(): Promise<Set<number>> {
    if (this.engineHostNetns) {
      const table = await runInNetns(this.engineHostNetns, ["cat", "/proc/net/tcp", "/proc/net/tcp6"]);
      if (table.code === 0) return listeningPortsInProcNet(table.stdout);
    }
    return this.hostObserver()
      .then((observer) => observer.listening())
      .then((ports) => new Set(ports.value))
      .catch(() => new Set<number>()); // no host network: the engine's own refusal will tell
  }

  private ipv6Picks = 0;

  /** A ULA /64 unique to this run (fd0d:<run>:<n>::/64): IPv6 lab networks never overlap each other. */
  pickIpv6Subnet(): string {
    return `fd0d:${(hashText(this.runId) & 0xffff).toString(16)}:${(this.ipv6Picks++).toString(16)}::/64`;
  }

  private linkIndex = 0;

  /** A new link between the engine's host and the outside host (a macvlan parent). */
  async outsideLink(): Promise<OutsideLink> {
    const { host, netns, index } = this.nextLink();
    return createOutsideLink(host, netns, index);
  }

  async detour(
    link: OutsideLink,
    destination: string,
    port: number,
    via: string,
  ): Promise<{ undo: () => Promise<void>; device: Observation<string> }> {
    const { host } = this.outsidePlace();
    const made = await addDetour(host, link, destination, port, via);
    const get = ["ip", "-j", "route", "get", destination, "ipproto", "tcp", "dport", String(port)];
    const route = await runInNetns(host.netns, get, 5000);
    const device = (JSON.parse(route.stdout || "[]") as { dev?: string }[])[0]?.dev ?? "";
    return {
      undo: () => removeDetour(host, link),
      device: { value: device, how: `${made}; ip -n ${host.netns} ${get.slice(2).join(" ")}`, raw: route.stdout },
    };
  }

  async narrowLink(link: OutsideLink, mtu: number): Promise<Observation<number>> {
    const { host, netns } = this.outsidePlace();
    const made = await narrowOutsideLink(host, link, netns, mtu);
    const read = await runInNetns(netns, ["ip", "-j", "link", "show", "dev", link.parent], 5000);
    const value = (JSON.parse(read.stdout || "[]") as { mtu?: number }[])[0]?.mtu ?? 0;
    return { value, how: `${made}; ip link show dev ${link.parent}`, raw: read.stdout };
  }

  /** A parent that leads nowhere: both ends on the engine's host (for the macvlan-parent-wrong fault). */
  async deadEndLink(): Promise<Pick<OutsideLink, "parent">> {
    const { host, netns, index } = this.nextLink();
    return createDeadEndLink(host, netns, index);
  }

  private nextLink(): { host: OutsideHost; netns: NetnsRef; index: number } {
    const place = this.outsidePlace();
    const index = ++this.linkIndex;
    if (index > 250) throw new Error("no more outside links for this run (250)");
    return { ...place, index };
  }

  private outsidePlace(): { host: OutsideHost; netns: NetnsRef } {
    if (!this.outsideHost || !this.engineHostNetns)
      throw new Error("this engine has no outside host (declare needs.outsideHost)");
    return { host: this.outsideHost, netns: this.engineHostNetns };
  }

  releaseSubnet(subnet: string): void {
    this.reservedSubnets.delete(subnet);
  }

  /** The routes of the engine's host, read once from a host-network probe. */
  private engineHostRoutes(): Promise<string[]> {
    this.hostRoutes ??= (async () => {
      try {
        const routes = await (await this.hostObserver()).routes();
        return routes.value.map((route) => route.destination).filter((d) => d !== "default");
      } catch {
        return []; // no host network (a remote or restricted engine): engine networks still rule overlaps out
      }
    })();
    return this.hostRoutes;
  }

  /** Removes everything of this run, whatever scenario made it. */
  async tearDown(): Promise<void> {
    try {
      await this.topologies.tearDown();
    } finally {
      await sweep(this.docker, [`${RUN_LABEL}=${this.runId}`]);
    }
  }
}

/** Everything one scenario may do with the engine. */
export class LabScope {
  readonly defaultBridge: NetworkRef;
  readonly hostNetwork: NetworkRef = HOST_NETWORK;
  readonly noNetwork: NetworkRef = { name: "none", kind: "none" };
  /** Everything this scope changed, undone at teardown. */
  private readonly undo = new UndoStack();
  /** The engine's host: commands, firewall, sysctls, addresses, resolv.conf. */
  readonly host: EngineHostActions;
  /** The world beyond the engine's host: the outside host, its links, LANs on them. */
  readonly outside: OutsideWorld;
  /** docknet's stub DNS servers. */
  readonly dns: DnsServers;
  /** Compose projects (needs.compose). */
  readonly compose: ComposeProjects;
  private worldUnderFaults: ScopeWorld | undefined;
  private readonly topologyUses: TopologyUse[] = [];
  private misrouteNetwork?: Promise<LabNetwork>;
  private sequence = 0;

  constructor(
    readonly lab: Lab,
    readonly scenarioId: string,
    private readonly options: { faultFree?: boolean; faults?: ReadonlySet<LabFault> } = {},
  ) {
    this.defaultBridge = { name: lab.defaultBridgeName, kind: "default-bridge" };
    const world = () => this.world;
    this.host = new EngineHostActions(lab, world, this.undo);
    this.outside = new OutsideWorld(lab, this, world, this.undo);
    this.dns = new DnsServers(lab, lab.docker, (probe, network) => this.addressOn(probe, network), world, this.undo);
    this.compose = new ComposeProjects(lab, this, this.undo);
    this.sweepAtTeardown();
  }

  /** Containers and networks go by label: even what a step cut short made is found. */
  private sweepAtTeardown(): void {
    this.undo.push("engine-objects", "remove the scope's containers and networks", () =>
      sweep(this.docker, [`${RUN_LABEL}=${this.lab.runId}`, `${SCENARIO_LABEL}=${this.scenarioId}`]),
    );
  }

  get docker(): Docker {
    return this.lab.docker;
  }

  get image(): string {
    return this.lab.image;
  }

  get probeCapabilities(): readonly string[] {
    return this.lab.probeCapabilities;
  }

  containerStarted(): void {
    this.lab.containersStarted++;
  }

  has(fault: LabFault): boolean {
    return !this.options.faultFree && (this.lab.faults.has(fault) || this.options.faults?.has(fault) === true);
  }
  /** What this scope builds around its containers (ports, servers, rules, LANs), under its faults. */
  get world(): ScopeWorld {
    return (this.worldUnderFaults ??= scopeWorld((fault) => this.has(fault)));
  }

  /** Observes until the predicate holds or the time is up, and returns the last observation (the kernel and engine settle in their own time). */
  eventually<T>(
    observe: () => Promise<Observation<T>>,
    holds: (value: T) => boolean,
    timeoutMs = 10_000,
  ): Promise<Observation<T>> {
    return observeUntil(observe, holds, timeoutMs);
  }

  /** The run's shared probe on the host network (see Lab.hostObserver). */
  hostObserver(): Promise<Probe> {
    return this.lab.hostObserver();
  }

  /** A unique, prefixed name for something this scenario makes. */
  name(short: string): string {
    return resourceName(this.lab.runId, this.scenarioId, short);
  }

  labels(): Record<string, string> {
    return this.lab.labels(this.scenarioId);
  }

  /** Creates a user-defined network (a bridge unless told otherwise). */
  async network(short: string, spec: NetworkSpec = {}): Promise<LabNetwork> {
    cancellationPoint();
    return this.createNetwork((await this.prepareNetwork(short, spec)).engine);
  }

  /**
   * The network as asked (for the evidence) and as the engine gets it (the
   * faults applied): named, its driver chosen, every "pick" made.
   */
  private async prepareNetwork(
    short: string,
    asked: NetworkSpec,
  ): Promise<{ asked: ResolvedNetworkSpec; engine: ResolvedNetworkSpec }> {
    const resolve = async (spec: NetworkSpec): Promise<ResolvedNetworkSpec> => {
      const subnet = spec.subnet === "pick" ? await this.lab.pickSubnet() : spec.subnet;
      if (spec.subnet === "pick" && subnet)
        this.undo.push("after-engine-objects", `release ${subnet}`, () => this.lab.releaseSubnet(subnet));
      const ipv6Subnet = spec.ipv6Subnet === "pick" ? this.lab.pickIpv6Subnet() : spec.ipv6Subnet;
      const { subnet: _asked, ipv6Subnet: _askedV6, ...rest } = spec;
      return {
        ...rest,
        name: this.name(short),
        driver: spec.driver ?? this.lab.networkDriver,
        labels: this.labels(),
        ...(subnet ? { subnet } : {}),
        ...(ipv6Subnet ? { ipv6Subnet } : {}),
      };
    };
    const resolved = await resolve(asked);
    return { asked: resolved, engine: await resolve(withNetworkFaults(resolved, (fault) => this.has(fault))) };
  }

  private async createNetwork(spec: ResolvedNetworkSpec): Promise<LabNetwork> {
    const name = spec.name;
    const created = await this.lab.networkCreation.creating(() =>
      this.docker.createNetwork(networkCreateOptions(spec)),
    );
    // Under firewalld, a bridge left out of the docker zone is what an engine that did not register it leaves.
    if (!this.world.bridgesInFirewalldZone && this.lab.firewalldBus && spec.driver === "bridge")
      await this.host.leaveFirewalldZone(`br-${created.id.slice(0, 12)}`);
    const facts = (await this.docker.getNetwork(created.id).inspect()) as Docker.NetworkInspectInfo;
    const config = facts.IPAM?.Config?.find((c) => c.Subnet?.includes("."));
    return {
      name,
      kind: "user",
      driver: facts.Driver,
      id: created.id,
      ...(config?.Subnet ? { subnet: config.Subnet } : {}),
      ...(config?.Gateway ? { gateway: config.Gateway } : {}),
    };
  }

  /** Creates a network, or says why the engine refused (for behaviour where refusal is what a broken setup shows). */
  async attemptNetwork(
    short: string,
    spec: NetworkSpec = {},
  ): Promise<Observation<{ outcome: ApiOutcome; network?: LabNetwork }>> {
    cancellationPoint();
    const { asked, engine } = await this.prepareNetwork(short, spec);
    const how = networkCommandLine(asked);
    try {
      const network = await this.createNetwork(engine);
      return { value: { outcome: "accepted", network }, how };
    } catch (error) {
      return { value: { outcome: errorText(error) }, how };
    }
  }

  /**
   * Runs checks that hold only while FORWARD's rules are in place ("cannot reach" across networks,
   * a DROP in DOCKER-USER) once no network of this run is being created, and holds creations off
   * until they end: Docker before 28 lifts those rules for a moment at every network create
   * (network-creation-gate.ts). Only probe commands belong here, never a step that makes a network.
   */
  steadyFirewall<T>(checks: () => Promise<T>): Promise<T> {
    return abandonOnCancel(() => this.lab.networkCreation.steady(checks));
  }

  /** A fluent builder for a probe container, in the manner of testcontainers. */
  probe(short: string): ProbeBuilder {
    return new ProbeBuilder(new ScopeProbeLauncher(this), short);
  }

  /** A /24 of docknet's that nothing on the engine or its host uses, for addresses of the scenario's own; released at teardown. */
  async spareSubnet(): Promise<string> {
    const subnet = await this.lab.pickSubnet();
    this.undo.push("after-engine-objects", `release ${subnet}`, () => this.lab.releaseSubnet(subnet));
    return subnet;
  }

  /**
   * A topology shared with other read-only scenarios (scenarios/topologies.ts): built once for the
   * run under this scope's faults, and checked after the scenario for anything it changed.
   */
  async shared<T extends TopologyMembers>(topology: Topology<LabScope, T>): Promise<T> {
    cancellationPoint();
    const faults = this.options.faultFree ? new Set<LabFault>() : (this.options.faults ?? new Set<LabFault>());
    const { members, use } = await this.lab.topologies.use(topology, faults);
    this.topologyUses.push(use);
    return members;
  }

  /** What this scenario changed in the shared topologies it used, as failed evidence (none when nothing). */
  sharedTopologyChanges(): Promise<Evidence[]> {
    return this.lab.topologies.changes(this.topologyUses);
  }

  /** The label values of the shared topologies this scenario used. */
  sharedScopeIds(): string[] {
    return SharedTopologies.scopeIds(this.topologyUses);
  }

  /** The network a container really lands on, once any misrouting fault is applied. */
  async route(network: NetworkRef): Promise<NetworkRef> {
    const to = misroutedTo(network.kind, (fault) => this.has(fault));
    if (to === "default-bridge") return this.defaultBridge;
    if (to === "user") {
      this.misrouteNetwork ??= this.network("misrouted");
      return this.misrouteNetwork;
    }
    return network;
  }

  /** A host port on the engine's host for a scenario to publish on. */
  async hostPort(): Promise<number> {
    return (await this.hostPorts(1))[0]!;
  }

  /** `count` consecutive host ports, e.g. for a published range. */
  async hostPorts(count: number): Promise<number[]> {
    const ports = await this.lab.allocateHostPorts(count);
    this.sequence++;
    if (this.world.hostPortsTaken) {
      const squatter = await this.probe(`squatter${this.sequence}`).on(this.hostNetwork).start();
      for (const port of ports) await squatter.exec(["httpd", "-p", String(port), "-h", "/www"]);
    }
    return ports;
  }

  async connect(probe: Probe, network: NetworkRef, endpoint: EndpointSpec = {}): Promise<Observation<ApiOutcome>> {
    const given = withEndpointFaults(endpoint, (fault) => this.has(fault));
    const how = connectCommandLine(endpoint, network.name, probe.name);
    // A connect a fault drops is acknowledged all the same, as the broken setup would.
    const has = (fault: LabFault) => this.has(fault);
    if (!(await connectReachesEngine(has, async () => (await this.inspect(probe)).value.state)))
      return { value: "accepted", how };
    return this.call(how, () =>
      this.docker.getNetwork(network.name).connect({ Container: probe.id, EndpointConfig: endpointConfig(given) }),
    );
  }

  async disconnect(probe: Probe, network: NetworkRef): Promise<Observation<ApiOutcome>> {
    return this.call(`docker network disconnect ${network.name} ${probe.name}`, () =>
      this.docker.getNetwork(network.name).disconnect({ Container: probe.id }),
    );
  }

  async removeNetwork(network: NetworkRef): Promise<Observation<ApiOutcome>> {
    return this.call(`docker network rm ${network.name}`, () => this.docker.getNetwork(network.name).remove());
  }

  async restart(probe: Probe): Promise<Observation<ApiOutcome>> {
    return this.call(`docker restart -t 0 ${probe.name}`, () => this.docker.getContainer(probe.id).restart({ t: 0 }));
  }

  async stop(probe: Probe): Promise<Observation<ApiOutcome>> {
    return this.call(`docker stop -t 0 ${probe.name}`, () => this.docker.getContainer(probe.id).stop({ t: 0 }));
  }

  async start(probe: Probe): Promise<Observation<ApiOutcome>> {
    return this.call(`docker start ${probe.name}`, () => this.docker.getContainer(probe.id).start());
  }

  /** The network mode that shares another container's namespace (`--network container:<name>`). */
  networkOf(probe: Probe): NetworkRef {
    return { name: `container:${probe.id}`, kind: "container" };
  }

  /** `docker rm --link CONTAINER/ALIAS`: removes a legacy link, leaving both containers running. */
  async removeLink(probe: Probe, alias: string): Promise<Observation<ApiOutcome>> {
    return this.call(`docker rm --link ${probe.name}/${alias}`, () =>
      this.docker.getContainer(`${probe.name}/${alias}`).remove({ link: true }),
    );
  }

  async remove(probe: Probe): Promise<Observation<ApiOutcome>> {
    return this.call(`docker rm -f ${probe.name}`, () => this.docker.getContainer(probe.id).remove({ force: true }));
  }

  async inspect(target: Probe | string): Promise<Observation<ContainerFacts>> {
    const ref = typeof target === "string" ? target : target.id;
    const name = typeof target === "string" ? target : target.name;
    const info = await this.docker.getContainer(ref).inspect();
    const networks: ContainerFacts["networks"] = {};
    for (const [netName, endpoint] of Object.entries(info.NetworkSettings.Networks ?? {})) {
      networks[netName] = {
        ip: endpoint.IPAddress,
        prefixLength: endpoint.IPPrefixLen,
        gateway: endpoint.Gateway,
        mac: endpoint.MacAddress,
        aliases: endpoint.Aliases ?? [],
      };
    }
    const ports: Record<string, string[]> = {};
    for (const [port, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      ports[port] = (bindings ?? []).map((b) =>
        b.HostIp.includes(":") ? `[${b.HostIp}]:${b.HostPort}` : `${b.HostIp}:${b.HostPort}`,
      );
    }
    return {
      value: { state: info.State.Status, hostname: info.Config.Hostname, networks, ports },
      how: `docker inspect ${name}`,
    };
  }

  /** The container's address on a network, or "" when it is not attached there. */
  async addressOn(probe: Probe, network: NetworkRef): Promise<Observation<string>> {
    return this.endpointFact(probe, network, "ip");
  }

  /** The gateway the engine gave the container on a network, or "" when it is not attached there. */
  async gatewayOn(probe: Probe, network: NetworkRef): Promise<Observation<string>> {
    return this.endpointFact(probe, network, "gateway");
  }

  private async endpointFact(probe: Probe, network: NetworkRef, fact: "ip" | "gateway"): Promise<Observation<string>> {
    const facts = await this.inspect(probe);
    return { value: facts.value.networks[network.name]?.[fact] ?? "", how: facts.how };
  }

  /** Restarts the engine's daemon with another daemon.json, as an administrator would (private engines only). */
  async restartEngine(daemonConfig: Record<string, unknown>): Promise<Observation<ApiOutcome>> {
    const restart = this.lab.restartEngine;
    if (!restart) throw new Error("this engine is not docknet's to restart (declare needs.engineNamespace)");
    return this.call(`dockerd restarted with daemon.json ${JSON.stringify(daemonConfig)}`, async () => {
      await restart(daemonConfig);
      await this.lab.engineRestarted();
    });
  }

  /**
   * Makes the engine a single-node swarm manager (`docker swarm init`), advertising the address
   * given; it leaves the swarm at teardown. For scenarios with an engine of their own (ownEngine).
   */
  async swarmInit(advertiseAddress?: string): Promise<Observation<ApiOutcome>> {
    const how = `docker swarm init${advertiseAddress ? ` --advertise-addr ${advertiseAddress}` : ""}`;
    const outcome = await this.call(how, () =>
      this.docker.swarmInit({
        ListenAddr: "0.0.0.0:2377",
        ...(advertiseAddress ? { AdvertiseAddr: advertiseAddress } : {}),
      }),
    );
    if (outcome.value === "accepted")
      this.undo.push("after-engine-objects", "docker swarm leave --force", () =>
        this.docker.swarmLeave({ force: true }),
      );
    return outcome;
  }

  /** The firewall backend the engine reports (`docker info`, Engine 29: "iptables" or "nftables"; "" before). */
  async firewallBackend(): Promise<Observation<string>> {
    // dockerode's types predate API 1.52's FirewallBackend.
    const info = (await this.docker.info()) as { FirewallBackend?: { Driver?: string } };
    return { value: info.FirewallBackend?.Driver ?? "", how: "docker info --format '{{json .FirewallBackend}}'" };
  }

  /** The names of every network on the engine. */
  async engineNetworks(): Promise<Observation<string[]>> {
    const networks = await this.docker.listNetworks();
    return { value: networks.map((n) => n.Name).sort(), how: "docker network ls" };
  }

  async inspectNetwork(network: NetworkRef): Promise<Observation<NetworkFacts>> {
    const info = (await this.docker.getNetwork(network.name).inspect()) as Docker.NetworkInspectInfo;
    return {
      value: {
        driver: info.Driver,
        ipv6: info.EnableIPv6,
        internal: info.Internal,
        subnets: (info.IPAM?.Config ?? []).map((c) => ({
          subnet: c.Subnet ?? "",
          ...(c.Gateway ? { gateway: c.Gateway } : {}),
          ...(c.IPRange ? { ipRange: c.IPRange } : {}),
        })),
        options: info.Options ?? {},
        containers: Object.values(info.Containers ?? {}).map((c) => c.Name),
      },
      how: `docker network inspect ${network.name}`,
    };
  }

  private async call(how: string, action: () => Promise<unknown>): Promise<Observation<ApiOutcome>> {
    try {
      await action();
      return { value: "accepted", how };
    } catch (error) {
      return { value: errorText(error), how };
    }
  }

  /**
   * Removes what this scenario made. Safe to call again: the undo stack is
   * emptied as it is undone, so a second call undoes only what was made since
   * (what a scenario cut short by an interrupt or a timeout did after the first).
   */
  async tearDown(): Promise<void> {
    try {
      await this.undo.unwind();
    } finally {
      // The next call still sweeps (even after an undo failed): what was made since is found by label too.
      this.sweepAtTeardown();
    }
  }
}

function hashText(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash;
}
