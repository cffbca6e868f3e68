import type Docker from "dockerode";
import { cancellationPoint } from "../cancellation.js";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { AbstractWaitStrategy } from "testcontainers/build/wait-strategies/wait-strategy.js";
import { CheckFailed, type Observation } from "../evidence.js";
import { errorText } from "./docker-api.js";
import type { ApiOutcome } from "./lab-types.js";
import { afterStartFaults, withProbeFaults, type LabFault } from "./faults.js";
import { dockerodeHandle, Probe, type ContainerHandle } from "./probe.js";
import {
  probeCommandLine,
  probeContainerConfig,
  READY_MARK,
  type EndpointSpec,
  type NetworkRef,
  type ProbeContainerConfig,
  type ProbeSpec,
  type PublishedPort,
} from "./probe-spec.js";

/** Starts a container and returns at once: probes are ready as soon as they run. */
class StartedAtOnce extends AbstractWaitStrategy {
  override async waitUntilReady(): Promise<void> {}
}

/** testcontainers' builder, given the engine call derived from a probe's spec (probe-spec.ts). */
class ProbeContainer extends GenericContainer {
  constructor(
    private readonly config: ProbeContainerConfig,
    private readonly docker: Docker,
  ) {
    super(config.create.Image!);
    const { HostConfig, ...create } = config.create;
    Object.assign(this.createOpts, create);
    Object.assign(this.hostConfig, HostConfig);
    if (HostConfig.NetworkMode) this.withNetworkMode(HostConfig.NetworkMode);
  }
  /**
   * Starts through testcontainers; but on the host network, and on macvlan and
   * ipvlan networks, the engine discards port bindings, which testcontainers
   * would wait for in vain, so such a probe is created and started directly.
   */
  async startProbe(bindingsDiscarded: boolean): Promise<ContainerHandle> {
    const published = Object.keys(this.hostConfig.PortBindings ?? {}).length > 0;
    if (published && (bindingsDiscarded || this.hostConfig.NetworkMode === "host")) {
      const created = await this.docker.createContainer({ ...this.createOpts, HostConfig: this.hostConfig });
      await created.start();
      return dockerodeHandle(this.docker, created.id);
    }
    const started: StartedTestContainer = await this.start();
    return { id: started.getId(), exec: (command, user) => started.exec(command, user ? { user } : {}) };
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    // The API takes one network at creation; the rest are joined before start.
    for (const { network, endpoint } of this.config.joinBeforeStart) {
      await this.docker.getNetwork(network).connect({ Container: containerId, EndpointConfig: endpoint });
    }
  }
}

/** What happened when a probe was asked to start: it runs, or the engine refused. */
export interface StartAttempt {
  readonly started: boolean;
  readonly message: string;
  /** The container's state after the attempt (e.g. "created" when start failed). */
  readonly state?: string;
}

/** What a builder asks for: a probe spec but for what the engine it starts on decides (name, image, labels). */
export type ProbeRequest = Omit<ProbeSpec, "name" | "image" | "labels">;

/**
 * Where a builder's probe starts: one engine's way of turning a request into a running container
 * (docknet's engine through testcontainers; a swarm node). A refusal is an attempt that did not
 * start, never an error.
 */
export interface ProbeLauncher {
  /** Said after "<short> starts" in a refusal's claim (" on node-2"), or "". */
  readonly where: string;
  launch(short: string, request: ProbeRequest): Promise<{ probe?: Probe; attempt: StartAttempt; how: string }>;
  /** Creates the container, on its networks, without starting it (`docker create`); where the engine allows it. */
  create?(short: string, request: ProbeRequest): Promise<Observation<ApiOutcome> & { probe?: Probe }>;
}

/**
 * A probe container described the way `docker run` reads:
 * `lab.probe("web").on(net).serving(80).start()`, or on a swarm node
 * `swarm.on(node).probe("web").on(net).serving(80).start()`.
 */
export class ProbeBuilder {
  private readonly networks: { network: NetworkRef; endpoint: EndpointSpec }[] = [];
  private readonly published: PublishedPort[] = [];
  private readonly exposed: string[] = [];
  private readonly links: { target: string; alias: string }[] = [];
  private readonly extraHosts: { host: string; ipAddress: string }[] = [];
  private readonly dnsServers: string[] = [];
  private readonly dnsSearchDomains: string[] = [];
  private readonly dnsOptionList: string[] = [];
  private readonly servers: number[] = [];
  private readonly environment: Record<string, string> = {};
  private publishAll = false;
  private hostname?: string;
  private restart?: ProbeSpec["restartPolicy"];
  private readonly sysctls: Record<string, string> = {};

  constructor(
    private readonly launcher: ProbeLauncher,
    private readonly short: string,
  ) {}

  /** Joins a network (the first one at creation, further ones before start). */
  on(network: NetworkRef, endpoint: EndpointSpec = {}): this {
    this.networks.push({ network, endpoint });
    return this;
  }

  /** `-p hostPort:containerPort` (hostPort may be a range "9090-9092", or "" for an ephemeral port). */
  publish(containerPort: number | string, hostPort: number | string, hostIp?: string): this {
    const port = String(containerPort).includes("/") ? String(containerPort) : `${containerPort}/tcp`;
    this.published.push({ containerPort: port, hostPort: String(hostPort), ...(hostIp ? { hostIp } : {}) });
    return this;
  }

  /** `--expose port`, published only with publishAllPorts(). */
  expose(containerPort: number): this {
    this.exposed.push(`${containerPort}/tcp`);
    return this;
  }

  /** `-P` */
  publishAllPorts(): this {
    this.publishAll = true;
    return this;
  }

  /** `--link target:alias` */
  link(target: Probe | string, alias: string): this {
    this.links.push({ target: typeof target === "string" ? target : target.name, alias });
    return this;
  }

  /** `--add-host host:ip` */
  addHost(host: string, ipAddress: string): this {
    this.extraHosts.push({ host, ipAddress });
    return this;
  }

  /** `-e NAME=value` */
  env(name: string, value: string): this {
    this.environment[name] = value;
    return this;
  }

  dns(server: string): this {
    this.dnsServers.push(server);
    return this;
  }

  /** `--dns-search DOMAIN`: a search domain for resolv.conf ("." for none). */
  dnsSearch(domain: string): this {
    this.dnsSearchDomains.push(domain);
    return this;
  }

  /** `--dns-option OPTION`, e.g. ndots:9. */
  dnsOption(option: string): this {
    this.dnsOptionList.push(option);
    return this;
  }

  /** `--sysctl name=value`: a namespaced kernel parameter of the container. */
  sysctl(name: string, value: string): this {
    this.sysctls[name] = value;
    return this;
  }

  withHostname(name: string): this {
    this.hostname = name;
    return this;
  }

  /** Runs a TCP server (busybox httpd) on this port from the start. */
  serving(port: number): this {
    this.servers.push(port);
    return this;
  }

  /** `--restart POLICY`: the engine starts it again when it exits, and when the daemon restarts. */
  restartPolicy(policy: NonNullable<ProbeSpec["restartPolicy"]>): this {
    this.restart = policy;
    return this;
  }

  /**
   * Starts the probe. An engine that refuses is itself an observation (ports
   * it cannot publish, networks it cannot join), so the scenario fails with
   * that evidence rather than breaking.
   */
  async start(): Promise<Probe> {
    const { probe, attempt, how } = await this.launch();
    if (!probe) {
      throw new CheckFailed({
        claim: `${this.short} starts${this.launcher.where}`,
        expected: "started",
        observed: attempt.message,
        how,
        ok: false,
      });
    }
    return probe;
  }

  /** Starts the probe, and reports a refusal as an observation rather than an error. */
  async attempt(): Promise<Observation<StartAttempt> & { probe?: Probe }> {
    const { probe, attempt, how } = await this.launch();
    return { value: attempt, how, ...(probe ? { probe } : {}) };
  }

  /**
   * Creates the container without starting it (`docker create`): a container whose networks are
   * changed before it ever runs. `lab.start(probe)` starts it.
   */
  async create(): Promise<Observation<ApiOutcome> & { probe?: Probe }> {
    cancellationPoint();
    if (!this.launcher.create) throw new Error(`probes cannot be created without starting them${this.launcher.where}`);
    return this.launcher.create(this.short, this.request());
  }

  private launch(): Promise<{ probe?: Probe; attempt: StartAttempt; how: string }> {
    // A cancelled scenario starts nothing more; a start under way is waited for, so teardown finds it.
    cancellationPoint();
    return this.launcher.launch(this.short, this.request());
  }

  private request(): ProbeRequest {
    return {
      networks: this.networks,
      published: this.published,
      exposed: this.exposed,
      publishAll: this.publishAll,
      links: this.links,
      extraHosts: this.extraHosts,
      environment: this.environment,
      dnsServers: this.dnsServers,
      ...(this.dnsSearchDomains.length ? { dnsSearch: this.dnsSearchDomains } : {}),
      ...(this.dnsOptionList.length ? { dnsOptions: this.dnsOptionList } : {}),
      sysctls: this.sysctls,
      ...(this.hostname ? { hostname: this.hostname } : {}),
      ...(this.restart ? { restartPolicy: this.restart } : {}),
      servers: this.servers,
    };
  }
}

/**
 * docknet's engine: a probe joins the networks a lab scope routes it to (faults may misroute it),
 * starts through testcontainers, and counts as a container the run started.
 */
/** What a probe started in one scenario's scope needs of that scope (lab.ts's LabScope). */
export interface ProbeScope {
  readonly docker: Docker;
  readonly defaultBridge: NetworkRef;
  /** The probe image. */
  readonly image: string;
  /** Capabilities every probe on this engine is given (Podman's defaults lack NET_RAW, which busybox's ping needs). */
  readonly probeCapabilities: readonly string[];
  readonly world: { readonly serversRun: boolean };
  name(short: string): string;
  labels(): Record<string, string>;
  /** The network a container really lands on, once any misrouting fault is applied. */
  route(network: NetworkRef): Promise<NetworkRef>;
  has(fault: LabFault): boolean;
  /** Counts a started container, for the benchmark's cost model. */
  containerStarted(): void;
}

export class ScopeProbeLauncher implements ProbeLauncher {
  readonly where = "";
  constructor(private readonly scope: ProbeScope) {}

  /** The spec as asked (for the evidence) and as the engine gets it (misrouted, faults applied). */
  private async specs(short: string, request: ProbeRequest): Promise<{ asked: ProbeSpec; spec: ProbeSpec }> {
    const scope = this.scope;
    const name = scope.name(short);
    const networks = request.networks.length ? request.networks : [{ network: scope.defaultBridge, endpoint: {} }];
    const asked: ProbeSpec = {
      ...request,
      name,
      image: scope.image,
      labels: scope.labels(),
      networks,
      ...(scope.probeCapabilities.length ? { capAdd: scope.probeCapabilities } : {}),
    };
    const landedOn: { network: NetworkRef; endpoint: EndpointSpec }[] = [];
    for (const { network, endpoint } of networks) {
      const landed = await scope.route(network);
      // A container misrouted to the default bridge cannot keep user-network aliases or addresses.
      landedOn.push({ network: landed, endpoint: landed.kind === network.kind ? endpoint : {} });
    }
    return { asked, spec: withProbeFaults({ ...asked, networks: landedOn }, (fault) => scope.has(fault)) };
  }

  async create(short: string, request: ProbeRequest): Promise<Observation<ApiOutcome> & { probe?: Probe }> {
    const scope = this.scope;
    const { asked, spec } = await this.specs(short, request);
    const config = probeContainerConfig(spec);
    const how = probeCommandLine(asked).replace(/^docker run -d /, "docker create ");
    try {
      const created = await scope.docker.createContainer(config.create);
      for (const { network, endpoint } of config.joinBeforeStart)
        await scope.docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: endpoint });
      return {
        value: "accepted",
        how,
        probe: new Probe(dockerodeHandle(scope.docker, created.id), spec.name, scope.world.serversRun),
      };
    } catch (error) {
      return { value: errorText(error), how };
    }
  }

  async launch(short: string, request: ProbeRequest): Promise<{ probe?: Probe; attempt: StartAttempt; how: string }> {
    const scope = this.scope;
    const { asked, spec } = await this.specs(short, request);
    const name = spec.name;
    const has = (fault: LabFault) => scope.has(fault);
    const container = new ProbeContainer(probeContainerConfig(spec), scope.docker)
      .withAutoRemove(false)
      // A probe that runs servers is ready once its start script has started them (it marks that);
      // checking earlier would race the script and see "refused" from a healthy engine.
      .withWaitStrategy(
        spec.servers.length > 0 ? Wait.forSuccessfulCommand(`test -e ${READY_MARK}`) : new StartedAtOnce(),
      );
    // The evidence shows what the scenario asked for, not what a fault made of it.
    const how = probeCommandLine(asked);
    let started: ContainerHandle;
    try {
      const noPortMapping = ["macvlan", "ipvlan"].includes(spec.networks[0]?.network.driver ?? "");
      started = await container.startProbe(noPortMapping);
    } catch (error) {
      const state = await scope.docker
        .getContainer(name)
        .inspect()
        .then((info) => info.State.Status)
        .catch(() => undefined);
      return { attempt: { started: false, message: errorText(error), ...(state ? { state } : {}) }, how };
    }
    scope.containerStarted();
    const probe = new Probe(started, name, scope.world.serversRun);
    await afterStartFaults(
      spec,
      { disconnect: (network) => scope.docker.getNetwork(network).disconnect({ Container: started.id }) },
      has,
    );
    return { probe, attempt: { started: true, message: "started", state: "running" }, how };
  }
}
