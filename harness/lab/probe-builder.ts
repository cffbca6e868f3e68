import type Docker from "dockerode";
import { cancellationPoint } from "../cancellation.js";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { AbstractWaitStrategy } from "testcontainers/build/wait-strategies/wait-strategy.js";
import { CheckFailed, type Observation } from "../evidence.js";
import { endpointConfig, errorText } from "./docker-api.js";
import type { EndpointSpec, LabScope, NetworkRef } from "./lab.js";
import { dockerodeHandle, Probe, type ContainerHandle } from "./probe.js";

/** Written by a probe's start script once its servers listen (busybox httpd binds before it daemonizes). */
export const READY_MARK = "/tmp/docknet-ready";

/** A probe's command: its servers (busybox httpd), the ready mark, then a long sleep that keeps it alive for exec. */
export function probeStartScript(servers: readonly number[]): string {
  return `${servers.map((port) => `httpd -p ${port} -h /www;`).join(" ")} touch ${READY_MARK}; exec sleep 2147483647`;
}

/** Starts a container and returns at once: probes are ready as soon as they run. */
class StartedAtOnce extends AbstractWaitStrategy {
  override async waitUntilReady(): Promise<void> {}
}

/** testcontainers' builder, opened up for what it does not expose (endpoint config, port ranges, links, DNS). */
class ProbeContainer extends GenericContainer {
  private extraNetworks: { name: string; endpoint: EndpointSpec }[] = [];
  constructor(image: string, private readonly docker: Docker) {
    super(image);
  }
  onNetwork(name: string, endpoint: EndpointSpec): this {
    if (!this.hostConfig.NetworkMode || this.hostConfig.NetworkMode === name) {
      this.withNetworkMode(name);
      this.hostConfig.NetworkMode = name;
      this.createOpts.NetworkingConfig = { EndpointsConfig: { [name]: endpointConfig(endpoint) } };
    } else {
      this.extraNetworks.push({ name, endpoint });
    }
    return this;
  }
  publishPort(containerPort: string, hostPort: string, hostIp?: string): this {
    this.createOpts.ExposedPorts = { ...this.createOpts.ExposedPorts, [containerPort]: {} };
    const bindings = this.hostConfig.PortBindings ?? {};
    bindings[containerPort] = [...(bindings[containerPort] ?? []), { HostPort: hostPort, ...(hostIp ? { HostIp: hostIp } : {}) }];
    this.hostConfig.PortBindings = bindings;
    return this;
  }
  exposePort(containerPort: string): this {
    this.createOpts.ExposedPorts = { ...this.createOpts.ExposedPorts, [containerPort]: {} };
    return this;
  }
  publishAllPorts(): this {
    this.hostConfig.PublishAllPorts = true;
    return this;
  }
  linkTo(target: string, alias: string): this {
    this.hostConfig.Links = [...(this.hostConfig.Links ?? []), `${target}:${alias}`];
    return this;
  }
  dnsServer(server: string): this {
    this.hostConfig.Dns = [...(this.hostConfig.Dns ?? []), server];
    return this;
  }
  kernelParameter(name: string, value: string): this {
    this.hostConfig.Sysctls = { ...this.hostConfig.Sysctls, [name]: value };
    return this;
  }
  hostnameIs(name: string): this {
    this.createOpts.Hostname = name;
    return this;
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
    return { id: started.getId(), exec: (command) => started.exec(command) };
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    // The API takes one network at creation; the rest are joined before start.
    for (const { name, endpoint } of this.extraNetworks) {
      await this.docker.getNetwork(name).connect({ Container: containerId, EndpointConfig: endpointConfig(endpoint) });
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

export class ProbeBuilder {
  private readonly networks: { network: NetworkRef; endpoint: EndpointSpec }[] = [];
  private readonly published: { containerPort: string; hostPort: string; hostIp?: string }[] = [];
  private readonly exposed: string[] = [];
  private readonly links: { target: string; alias: string }[] = [];
  private readonly extraHosts: { host: string; ipAddress: string }[] = [];
  private readonly dnsServers: string[] = [];
  private readonly servers: number[] = [];
  private readonly environment: Record<string, string> = {};
  private publishAll = false;
  private hostname?: string;
  private readonly sysctls: Record<string, string> = {};

  constructor(
    private readonly scope: LabScope,
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

  /**
   * Starts the probe. An engine that refuses is itself an observation (ports
   * it cannot publish, networks it cannot join), so the scenario fails with
   * that evidence rather than breaking.
   */
  async start(): Promise<Probe> {
    const { probe, attempt, how } = await this.launch();
    if (!probe) {
      throw new CheckFailed({ claim: `${this.short} starts`, expected: "started", observed: attempt.message, how, ok: false });
    }
    return probe;
  }

  /** Starts the probe, and reports a refusal as an observation rather than an error. */
  async attempt(): Promise<Observation<StartAttempt> & { probe?: Probe }> {
    const { probe, attempt, how } = await this.launch();
    return { value: attempt, how, ...(probe ? { probe } : {}) };
  }

  private async launch(): Promise<{ probe?: Probe; attempt: StartAttempt; how: string }> {
    // A cancelled scenario starts nothing more; a start under way is waited for, so teardown finds it.
    cancellationPoint();
    const scope = this.scope;
    const name = scope.name(this.short);
    const container = new ProbeContainer(scope.lab.image, scope.docker)
      .withName(name)
      .withLabels(scope.labels())
      .withAutoRemove(false)
      // A probe that runs servers is ready once its start script has started them (it marks that);
      // checking earlier would race the script and see "refused" from a healthy engine.
      .withWaitStrategy(this.servers.length > 0 ? Wait.forSuccessfulCommand(`test -e ${READY_MARK}`) : new StartedAtOnce())
      .withCommand(["sh", "-c", this.startScript()]);
    if (this.networks.length === 0) this.networks.push({ network: scope.defaultBridge, endpoint: {} });
    const args: string[] = [];
    const landedOn: { network: NetworkRef; endpoint: EndpointSpec }[] = [];
    for (const [index, { network, endpoint }] of this.networks.entries()) {
      const landed = await scope.route(network);
      // A container misrouted to the default bridge cannot keep user-network aliases or addresses.
      const kept = landed.kind === network.kind ? endpoint : {};
      landedOn.push({ network: landed, endpoint: kept });
      container.onNetwork(landed.name, kept);
      args.push(`--network ${network.name}`);
      if (index === 0) {
        endpoint.aliases?.forEach((alias) => args.push(`--network-alias ${alias}`));
        if (endpoint.ip) args.push(`--ip ${endpoint.ip}`);
        if (endpoint.ip6) args.push(`--ip6 ${endpoint.ip6}`);
      }
    }
    for (const { containerPort, hostPort, hostIp } of this.published) {
      if (!scope.has("publish-dropped")) container.publishPort(containerPort, hostPort, scope.has("publish-host-ip-ignored") ? undefined : hostIp);
      args.push(`-p ${hostIp ? `${hostIp}:` : ""}${hostPort ? `${hostPort}:` : ""}${containerPort.replace("/tcp", "")}`);
    }
    for (const port of this.exposed) {
      container.exposePort(port);
      args.push(`--expose ${port.replace("/tcp", "")}`);
    }
    if (this.publishAll) {
      if (!scope.has("publish-dropped")) container.publishAllPorts();
      args.push("-P");
    }
    if (this.links.length > 0 && !scope.has("links-dropped")) {
      const first = landedOn[0]!;
      // On user-defined networks a link is only a scoped alias, carried by the endpoint (as the CLI does).
      if (first.network.kind === "user") {
        container.onNetwork(first.network.name, { ...first.endpoint, links: this.links.map(({ target, alias }) => `${target}:${alias}`) });
      } else {
        this.links.forEach(({ target, alias }) => container.linkTo(target, alias));
      }
    }
    this.links.forEach(({ target, alias }) => args.push(`--link ${target}:${alias}`));
    if (this.extraHosts.length > 0) {
      if (!scope.has("extra-hosts-dropped")) container.withExtraHosts(this.extraHosts);
      this.extraHosts.forEach(({ host, ipAddress }) => args.push(`--add-host ${host}:${ipAddress}`));
    }
    if (Object.keys(this.environment).length > 0) {
      container.withEnvironment(this.environment);
      Object.entries(this.environment).forEach(([k, v]) => args.push(`-e ${k}=${v}`));
    }
    for (const server of this.dnsServers) {
      container.dnsServer(server);
      args.push(`--dns ${server}`);
    }
    // A fault for IPv6 scenarios: containers that turn IPv6 off, as some hardened defaults do (not for
    // containers sharing another's namespace, which take no namespaced sysctls).
    const ownNamespace = !this.networks.some(({ network }) => network.kind === "host" || network.kind === "container");
    const sysctls = scope.has("ipv6-disabled-in-containers") && ownNamespace ? { ...this.sysctls, "net.ipv6.conf.all.disable_ipv6": "1" } : this.sysctls;
    for (const [name, value] of Object.entries(sysctls)) {
      container.kernelParameter(name, value);
      args.push(`--sysctl ${name}=${value}`);
    }
    if (this.hostname) {
      container.hostnameIs(this.hostname);
      args.push(`--hostname ${this.hostname}`);
    }
    const how = `docker run -d --name ${name} ${args.join(" ")} ${scope.lab.image}`;
    let started: ContainerHandle;
    try {
      const noPortMapping = ["macvlan", "ipvlan"].includes(landedOn[0]?.network.driver ?? "");
      started = await container.startProbe(noPortMapping);
    } catch (error) {
      const state = await scope.docker
        .getContainer(name)
        .inspect()
        .then((info) => info.State.Status)
        .catch(() => undefined);
      return { attempt: { started: false, message: errorText(error), ...(state ? { state } : {}) }, how };
    }
    scope.lab.containersStarted++;
    const probe = new Probe(started, name, scope.has("servers-down"));
    if (scope.has("detach-after-start")) {
      for (const { network } of landedOn.filter((l) => l.network.kind === "user")) {
        await scope.docker.getNetwork(network.name).disconnect({ Container: started.id });
      }
    }
    return { probe, attempt: { started: true, message: "started", state: "running" }, how };
  }

  private startScript(): string {
    return probeStartScript(this.scope.has("servers-down") ? [] : this.servers);
  }
}
