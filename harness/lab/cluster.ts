import type Docker from "dockerode";
import { cancellationPoint } from "../cancellation.js";
import type { MultiHostLab, SwarmOptions } from "../engine/multi-host-lab.js";
import { runInNetns } from "../engine/netns.js";
import { leaveSwarm } from "../engine/swarm-membership.js";
import { CheckFailed, type Observation } from "../evidence.js";
import { errorText } from "./docker-api.js";
import {
  scopeFaults,
  splitFaults,
  swarmWorld,
  withNetworkFaults,
  withServiceFaults,
  type FaultChoice,
  type LabFault,
  type RunFaults,
  type SwarmWorld,
} from "./faults.js";
import { observeUntil, waitFor } from "../polling.js";
import { timeScale } from "../time-scale.js";
import type { ApiOutcome, LabNetwork } from "./lab-types.js";
import { sweep } from "./sweep.js";
import { RUN_LABEL, SCENARIO_LABEL, resourceName, runLabels } from "./labels.js";
import { ensureProbeImage } from "./probe-image.js";
import { networkCommandLine, networkCreateOptions, type ResolvedNetworkSpec } from "./network-spec.js";
import { serviceCommandLine, serviceCreateOptions, type ServiceSpecResolved } from "./service-spec.js";
import { probeCommandLine, probeContainerConfig, READY_MARK, type ProbeSpec } from "./probe-spec.js";
import { ProbeBuilder, type ProbeLauncher, type ProbeRequest, type StartAttempt } from "./probe-builder.js";
import { dockerodeHandle, Probe } from "./probe.js";

/**
 * The multi-host counterpart of the Lab: one run's resources on the nodes of
 * a swarm (docknet's own lab, or nodes the user named). Everything it makes
 * carries the run label and is removed at the end; nothing else in a
 * multi-host scenario talks to Docker.
 */

/** One engine of the swarm, as scenarios see it. */
export interface ClusterNode {
  readonly name: string;
  readonly docker: Docker;
  readonly dockerHost: string;
  /** The node's address on the network between the nodes (where published ports answer). */
  readonly address: string;
  /** The node's network namespace, when the node is docknet's (its sockets and xfrm state can be read). */
  readonly netns?: string;
}

/** What docknet's own lab lets scenarios do beyond the API: re-form the swarm (multi-host-lab.ts). */
export type SwarmControl = Pick<MultiHostLab, "reform" | "owe" | "settle">;

export interface OverlaySpec {
  readonly attachable?: boolean;
  readonly encrypted?: boolean;
  readonly mtu?: number;
  readonly ingress?: boolean;
}

export interface ServiceSpec {
  readonly networks: readonly { network: LabNetwork | string; aliases?: string[] }[];
  readonly replicas?: number;
  readonly endpointMode?: "vip" | "dnsrr";
  /** Ports to publish: through the routing mesh ("ingress"), or on the task's node ("host"). */
  readonly publish?: readonly { published: number; target: number; mode: "ingress" | "host" }[];
  readonly dns?: { nameservers?: string[]; search?: string[]; options?: string[] };
  /** Which nodes may run the tasks, by name ("node2"). */
  readonly onNodes?: readonly string[];
  /** Ports busybox httpd serves in every task. */
  readonly serving?: readonly number[];
}

export interface ServiceRef {
  readonly name: string;
  readonly id: string;
}

export interface TaskRef {
  readonly node: ClusterNode;
  readonly containerId: string;
  /** The task's address on each of its networks, by network name. */
  readonly addresses: Record<string, string>;
}

export interface SwarmFacts {
  readonly dataPathPort: number;
  readonly nodeState: string;
  readonly nodeId: string;
}

export interface ClusterNetworkFacts {
  readonly name: string;
  readonly driver: string;
  readonly scope: string;
  readonly attachable: boolean;
  readonly ingress: boolean;
  readonly subnets: string[];
}

/**
 * dockerd's words when a container's attachment to a swarm network outlives its
 * fixed 30 s deadline: "attaching to network failed, … context deadline exceeded"
 * from the container start, "Could not attach to network …: context deadline
 * exceeded" from the attachment itself (seen on OV-08 and OV-14 in the kernel VM).
 */
export const ATTACH_DEADLINE = /(attaching to network failed|could not attach to network).*context deadline exceeded/is;

export class Cluster {
  private constructor(
    readonly nodes: readonly ClusterNode[],
    readonly runId: string,
    readonly image: string,
    readonly faults: ReadonlySet<LabFault>,
    /** Faults for one scenario each (--fault ID=NAME): applied when its scope begins, undone at its teardown. */
    private readonly runFaults: RunFaults,
    readonly control?: SwarmControl,
  ) {}

  /** Puts the probe image on every node, and applies the run's faults that live in the nodes themselves. */
  static async open(options: {
    nodes: readonly ClusterNode[];
    runId: string;
    faults?: Iterable<LabFault | FaultChoice>;
    control?: SwarmControl;
  }): Promise<Cluster> {
    // A swarm that a scenario of another Cluster on this lab changed is made the default one before
    // faults are put in it.
    await options.control?.settle();
    const images = await Promise.all(options.nodes.map((node) => ensureProbeImage(node.docker)));
    const faults = splitFaults(options.faults ?? []);
    const cluster = new Cluster(options.nodes, options.runId, images[0]!, faults.runWide, faults, options.control);
    await cluster.applyNodeFaults(faults.runWide);
    return cluster;
  }

  /** The faults that live in the nodes themselves (not in what a scenario creates): applied to the whole swarm. */
  async applyNodeFaults(faults: ReadonlySet<LabFault>): Promise<void> {
    const swarm = swarmWorld((fault) => faults.has(fault));
    if (!swarm.ingress) {
      await this.manager.docker
        .getNetwork("ingress")
        .remove()
        .catch(() => undefined);
      // Every node drops its copy once the manager's removal reaches it.
      await waitFor(async () => {
        const lists = await Promise.all(
          this.nodes.map((n) => n.docker.listNetworks({ filters: { name: ["ingress"] } })),
        );
        return lists.every((list) => !list.some((n) => n.Name === "ingress"));
      }, 15_000);
    }
    if (!swarm.dataPathOpen) await this.dataPathFilter("-I");
  }

  async undoNodeFaults(faults: ReadonlySet<LabFault>): Promise<void> {
    const swarm = swarmWorld((fault) => faults.has(fault));
    if (!swarm.dataPathOpen) await this.dataPathFilter("-D");
    if (!swarm.ingress) await this.renewIngress();
  }

  /**
   * The swarm as a new one is, after a scenario took its ingress: on docknet's own lab a fresh swarm
   * (the ingress made again by hand was not always usable by the next scenario in the kernel VM:
   * "service needs ingress network"), elsewhere the ingress made again.
   */
  async renewIngress(): Promise<void> {
    if (this.control) await this.control.reform();
    else await this.restoreIngress();
  }

  /**
   * The default ingress (`docker network create -d overlay --ingress ingress`), when it was removed
   * or replaced, made again and present on every node: the routing mesh answers on a node only once
   * that node has it, and the next scenario must find the swarm as a new one is.
   */
  async restoreIngress(): Promise<void> {
    await recreateIngressOnManager(this.manager.docker);
    const everywhere = await waitFor(
      async () => {
        const lists = await Promise.all(
          this.nodes.map((n) => n.docker.listNetworks({ filters: { name: ["ingress"] } })),
        );
        return lists.every((list) => list.some((n) => n.Name === "ingress"));
      },
      30_000,
      1000,
    );
    if (!everywhere) throw new Error("the swarm's ingress network was made again, but not every node has it");
  }

  /** Adds (-I) or deletes (-D) a rule in every docknet node that drops VXLAN from the other nodes. */
  private async dataPathFilter(action: "-I" | "-D"): Promise<void> {
    for (const node of this.nodes.filter((n) => n.netns)) {
      await runInNetns(
        node.netns!,
        ["iptables", "-w", "5", action, "INPUT", "-p", "udp", "--dport", "4789", "-j", "DROP"],
        10_000,
      );
    }
  }

  get manager(): ClusterNode {
    return this.nodes[0]!;
  }

  private port = 30_000 + Math.floor(Math.random() * 100) * 20;

  /** Ports for published services: the routing mesh claims a port on every node, so the run hands them out. */
  nextPort(): number {
    return this.port++;
  }

  labels(scenarioId?: string): Record<string, string> {
    return runLabels(this.runId, scenarioId);
  }

  /** A scope for one scenario's attempt (SCOPEID) of the scenario SCENARIOID; multi-host scenarios run one at a time. */
  scope(scopeId: string, scenarioId = scopeId): ClusterScope {
    return new ClusterScope(this, scopeId, scopeFaults(this.runFaults, scopeId, scenarioId));
  }

  /**
   * Removes everything of this run from every node and undoes the run's faults: the nodes are as
   * they were. A swarm the run changed is re-formed, unless `swarmDiscarded` (the lab stops next,
   * taking the swarm with it).
   */
  async tearDown({ swarmDiscarded = false }: { swarmDiscarded?: boolean } = {}): Promise<void> {
    if (!swarmDiscarded) await this.control?.settle();
    await sweepCluster(this, [`${RUN_LABEL}=${this.runId}`], { networksGoWithSwarm: swarmDiscarded });
    await this.undoNodeFaults(this.faults);
  }
}

/** Services first (their tasks go with them), then each node's containers and networks. */
async function sweepCluster(
  cluster: Cluster,
  labelFilters: string[],
  { networksGoWithSwarm = false }: { networksGoWithSwarm?: boolean } = {},
): Promise<void> {
  const manager = cluster.manager.docker;
  const services = await manager.listServices({ filters: { label: labelFilters } }).catch(() => []);
  await Promise.all(
    services.map((s) =>
      manager
        .getService(s.ID!)
        .remove()
        .catch(() => undefined),
    ),
  );
  if (networksGoWithSwarm) {
    // The swarm is re-formed next, and its overlays go with it: waiting for them here is waiting for a
    // manager that may never let go (after a node left, its attachments stay listed: 20 s in OV-03).
    await Promise.all(cluster.nodes.map((node) => sweep(node.docker, labelFilters).catch(() => undefined)));
    return;
  }
  // An overlay goes once the tasks that used it are gone everywhere, which takes the swarm a moment.
  await waitFor(
    async () => {
      // A node that does not answer (its dockerd restarting) must not keep the others from being swept.
      for (const node of cluster.nodes) await sweep(node.docker, labelFilters).catch(() => undefined);
      const left = await Promise.all(
        cluster.nodes.map((node) => node.docker.listNetworks({ filters: { label: labelFilters } }).catch(() => [])),
      );
      return left.every((networks) => networks.length === 0);
    },
    20_000,
    500,
  );
}

/** A multi-host scenario's view of the swarm: names and labels for that scenario, and typed actions. */
export class ClusterScope {
  private reformed = false;
  private readonly leftNodes: ClusterNode[] = [];
  /** A scenario removed or replaced the ingress network: the default one comes back at teardown. */
  private ingressChanged = false;

  private nodeFaultsApplied = false;

  constructor(
    readonly cluster: Cluster,
    readonly scenarioId: string,
    private readonly ownFaults: ReadonlySet<LabFault> = new Set(),
  ) {}

  /** Applies this scenario's own node faults (--fault ID=NAME) before it runs. */
  async begin(): Promise<void> {
    // The default swarm, when the scenario before changed it.
    await this.cluster.control?.settle();
    this.nodeFaultsApplied = true;
    await this.cluster.applyNodeFaults(this.ownFaults);
  }

  get nodes(): readonly ClusterNode[] {
    return this.cluster.nodes;
  }

  get manager(): ClusterNode {
    return this.cluster.manager;
  }

  /** The nodes after the first: where "another host" lives. */
  get others(): readonly ClusterNode[] {
    return this.cluster.nodes.slice(1);
  }

  has(fault: LabFault): boolean {
    return this.cluster.faults.has(fault) || this.ownFaults.has(fault);
  }

  /** The swarm as this scope's faults make it. */
  private get swarmUnderFaults(): SwarmWorld {
    return swarmWorld((fault) => this.has(fault));
  }

  name(short: string): string {
    return resourceName(this.cluster.runId, this.scenarioId, short);
  }

  labels(): Record<string, string> {
    return this.cluster.labels(this.scenarioId);
  }

  /** `docker network create -d overlay` on the manager. */
  async overlay(short: string, spec: OverlaySpec = {}): Promise<LabNetwork> {
    const attempt = await this.attemptOverlay(short, spec);
    if (!attempt.value.network) {
      throw new CheckFailed({
        claim: `overlay ${short} is created`,
        expected: "accepted",
        observed: attempt.value.outcome,
        how: attempt.how,
        ok: false,
      });
    }
    return attempt.value.network;
  }

  /** Creates an overlay, or says why the engine refused. */
  async attemptOverlay(
    short: string,
    spec: OverlaySpec = {},
  ): Promise<Observation<{ outcome: ApiOutcome; network?: LabNetwork }>> {
    cancellationPoint();
    const name = this.name(short);
    const asked: ResolvedNetworkSpec = { ...spec, name, driver: "overlay", labels: this.labels() };
    const how = networkCommandLine(asked);
    try {
      const engine = {
        ...withNetworkFaults(asked, (fault) => this.has(fault)),
        name,
        driver: "overlay",
        labels: asked.labels,
      };
      const created = await this.manager.docker.createNetwork(networkCreateOptions(engine));
      const info = (await this.manager.docker.getNetwork(created.id).inspect()) as Docker.NetworkInspectInfo;
      const subnet = info.IPAM?.Config?.[0]?.Subnet;
      if (spec.ingress) this.ingressChanged = true;
      return {
        value: { outcome: "accepted", network: { name, kind: "user", id: created.id, ...(subnet ? { subnet } : {}) } },
        how,
      };
    } catch (error) {
      return { value: { outcome: errorText(error) }, how };
    }
  }

  /** One node of the swarm, to start probes on: `swarm.on(node).probe("x").on(net).serving(80).start()`. */
  on(node: ClusterNode): { probe(short: string): ProbeBuilder } {
    return { probe: (short) => new ProbeBuilder(new NodeProbeLauncher(this, node), short) };
  }

  /** `docker service create` on the manager; resolves once every task runs. */
  async service(short: string, spec: ServiceSpec): Promise<ServiceRef> {
    cancellationPoint();
    const name = this.name(short);
    const constraints = spec.onNodes ? await this.nodeConstraints(spec.onNodes) : [];
    const asked: ServiceSpecResolved = {
      name,
      image: this.cluster.image,
      labels: this.labels(),
      networks: spec.networks.map(({ network, aliases }) => ({
        target: typeof network === "string" ? network : network.id,
        name: typeof network === "string" ? network : network.name,
        ...(aliases ? { aliases } : {}),
      })),
      replicas: spec.replicas ?? 1,
      ...(spec.endpointMode ? { endpointMode: spec.endpointMode } : {}),
      publish: spec.publish ?? [],
      ...(spec.dns ? { dns: spec.dns } : {}),
      constraints,
      serving: spec.serving ?? [],
    };
    const how = serviceCommandLine(asked);
    const created = await this.manager.docker
      .createService(serviceCreateOptions(withServiceFaults(asked, (fault) => this.has(fault))))
      .catch((error: unknown) => {
        throw new CheckFailed({
          claim: `service ${short} is created`,
          expected: "accepted",
          observed: errorText(error),
          how,
          ok: false,
        });
      });
    const ref = { name, id: created.id };
    await this.tasks(ref, spec.replicas ?? 1);
    return ref;
  }

  /** `docker service create`, reporting a refusal as an observation. */
  async attemptService(short: string, spec: ServiceSpec): Promise<Observation<ApiOutcome>> {
    try {
      await this.service(short, spec);
      return { value: "accepted", how: `docker service create --name ${this.name(short)}` };
    } catch (error) {
      if (error instanceof CheckFailed) return { value: String(error.evidence.observed), how: error.evidence.how };
      throw error;
    }
  }

  private swarmIds: Promise<Map<ClusterNode, string>> | undefined;

  /** Each node's swarm node ID, read once; a node that leaves or a re-formed swarm gets new ones. */
  private nodeIds(): Promise<Map<ClusterNode, string>> {
    this.swarmIds ??= Promise.all(
      this.nodes.map(async (node) => [node, (await this.swarm(node)).value.nodeId] as const),
    ).then((pairs) => new Map(pairs));
    return this.swarmIds;
  }

  /** Placement by node ID: nodes share this machine's hostname in docknet's lab. */
  private async nodeConstraints(names: readonly string[]): Promise<string[]> {
    const ids = await this.nodeIds();
    const chosen = this.nodes.filter((n) => names.includes(n.name));
    if (chosen.length === 1) return [`node.id==${ids.get(chosen[0]!)}`];
    return this.nodes.filter((n) => !names.includes(n.name)).map((n) => `node.id!=${ids.get(n)}`);
  }

  /** The running tasks of a service, waiting until there are `count` of them. */
  async tasks(service: ServiceRef, count: number): Promise<TaskRef[]> {
    const byNodeId = new Map([...(await this.nodeIds())].map(([node, id]) => [id, node] as const));
    let running: TaskRef[] = [];
    const ready = await waitFor(async () => {
      const tasks = (await this.manager.docker.listTasks({
        filters: { service: [service.name], "desired-state": ["running"] },
      })) as {
        NodeID?: string;
        Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
        NetworksAttachments?: { Network?: { Spec?: { Name?: string } }; Addresses?: string[] }[];
      }[];
      running = tasks.flatMap((task) => {
        const node = byNodeId.get(task.NodeID ?? "");
        const containerId = task.Status?.ContainerStatus?.ContainerID;
        if (task.Status?.State !== "running" || !node || !containerId) return [];
        const addresses: Record<string, string> = {};
        for (const attachment of task.NetworksAttachments ?? []) {
          addresses[attachment.Network?.Spec?.Name ?? ""] = (attachment.Addresses?.[0] ?? "").split("/")[0]!;
        }
        return [{ node, containerId, addresses }];
      });
      return running.length >= count;
    }, 45_000);
    if (!ready) {
      throw new CheckFailed({
        claim: `service ${service.name} runs ${count} task(s)`,
        expected: String(count),
        observed: String(running.length),
        how: `docker service ps ${service.name}`,
        ok: false,
      });
    }
    return running;
  }

  /** A probe over a task's container, to look from inside the service. */
  taskProbe(task: TaskRef): Probe {
    const handle = {
      ...dockerodeHandle(task.node.docker, task.containerId),
      runsAs: `docker -H ${task.node.dockerHost} exec ${task.containerId.slice(0, 12)}`,
    };
    return new Probe(handle, task.containerId.slice(0, 12));
  }

  /** The node's swarm facts (`docker info`). */
  async swarm(node: ClusterNode): Promise<Observation<SwarmFacts>> {
    const info = (await node.docker.info()) as {
      Swarm?: { NodeID?: string; LocalNodeState?: string; Cluster?: { DataPathPort?: number } };
    };
    return {
      value: {
        dataPathPort: info.Swarm?.Cluster?.DataPathPort ?? 4789,
        nodeState: info.Swarm?.LocalNodeState ?? "inactive",
        nodeId: info.Swarm?.NodeID ?? "",
      },
      how: `docker -H ${node.dockerHost} info --format '{{json .Swarm}}'`,
    };
  }

  /** The networks a node knows, with their driver and scope (`docker network ls`). */
  async networksOn(node: ClusterNode): Promise<Observation<ClusterNetworkFacts[]>> {
    const networks = (await node.docker.listNetworks()) as (Docker.NetworkInspectInfo & { Ingress?: boolean })[];
    return {
      value: networks
        .map((n) => ({
          name: n.Name,
          driver: n.Driver,
          scope: n.Scope,
          attachable: n.Attachable ?? false,
          ingress: n.Ingress ?? false,
          subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "").filter(Boolean),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      how: `docker -H ${node.dockerHost} network ls`,
    };
  }

  /**
   * Observes until the predicate holds or the time is up, and returns the last
   * observation: the swarm converges (gossip, DNS, attachments) in its own time.
   */
  eventually<T>(
    observe: () => Promise<Observation<T>>,
    holds: (value: T) => boolean,
    timeoutMs = 10_000,
  ): Promise<Observation<T>> {
    return observeUntil(observe, holds, timeoutMs);
  }

  /** A port for publishing that no node of the run was given before (the nodes' ports are the lab's alone). */
  async freePort(): Promise<number> {
    return this.cluster.nextPort();
  }

  /** A container's address on one network. */
  async attachmentAddress(node: ClusterNode, probe: Probe, network: string): Promise<Observation<string>> {
    const info = await node.docker.getContainer(probe.id).inspect();
    return {
      value: info.NetworkSettings.Networks?.[network]?.IPAddress ?? "",
      how: `docker -H ${node.dockerHost} inspect ${probe.name}`,
    };
  }

  /** Which networks a container is attached to, as the engine reports it. */
  async attachments(node: ClusterNode, probe: Probe): Promise<Observation<string[]>> {
    const info = await node.docker.getContainer(probe.id).inspect();
    return {
      value: Object.keys(info.NetworkSettings.Networks ?? {}).sort(),
      how: `docker -H ${node.dockerHost} inspect ${probe.name}`,
    };
  }

  /** Published ports of the containers running on a node (`docker ps` PORTS). */
  async publishedOn(node: ClusterNode): Promise<Observation<string[]>> {
    const containers = await node.docker.listContainers({
      filters: { label: [`${RUN_LABEL}=${this.cluster.runId}`, `${SCENARIO_LABEL}=${this.scenarioId}`] },
    });
    const ports = containers.flatMap((c) =>
      c.Ports.filter((p) => p.PublicPort).map((p) => `${p.IP ?? ""}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`),
    );
    return { value: ports, how: `docker -H ${node.dockerHost} ps --format '{{.Ports}}'` };
  }

  /** Removes a network (`docker network rm`). */
  async removeNetwork(name: string): Promise<Observation<ApiOutcome>> {
    const how = `docker network rm ${name}`;
    if (name === "ingress") this.ingressChanged = true;
    try {
      await this.manager.docker.getNetwork(name).remove();
      return { value: "accepted", how };
    } catch (error) {
      return { value: errorText(error), how };
    }
  }

  /** `docker swarm leave --force` on a node (docknet's own lab only; the node rejoins at teardown). */
  async leave(node: ClusterNode): Promise<Observation<ApiOutcome>> {
    const how = `docker -H ${node.dockerHost} swarm leave --force`;
    if (!this.swarmUnderFaults.leaveSent) return { value: "accepted", how };
    this.requireControl("make a node leave the swarm");
    this.leftNodes.push(node);
    this.swarmIds = undefined;
    const leave = await leaveSwarm(node.docker);
    if (leave.refused === 0) return { value: "accepted", how };
    const sent = `  # sent ${leave.attempts === 1 ? "once" : `${leave.attempts} times`}, refused ${leave.refused === 1 ? "once" : `${leave.refused} times`} ("${leave.refusal}")`;
    if (leave.left) return { value: "accepted", how: `${how}${sent}; the node's swarm state is now inactive` };
    return {
      value: leave.refusal ?? "not left",
      how: leave.state ? `${how}${sent}; the node's swarm state stayed "${leave.state}"` : how,
    };
  }

  /** Re-forms docknet's lab swarm with other `swarm init` options; the default swarm comes back at teardown. */
  async reform(options: SwarmOptions): Promise<Observation<ApiOutcome>> {
    const control = this.requireControl("re-form the swarm");
    const how = `docker swarm leave --force (every node); docker swarm init${options.dataPathPort ? ` --data-path-port ${options.dataPathPort}` : ""}${options.defaultAddrPool ? ` --default-addr-pool ${options.defaultAddrPool.subnet} --default-addr-pool-mask-length ${options.defaultAddrPool.maskLength}` : ""}; docker swarm join (the others)`;
    this.reformed = true;
    this.swarmIds = undefined;
    await control.reform(this.swarmUnderFaults.initOptionsApplied ? options : {});
    return { value: "accepted", how };
  }

  /** A command in a node's own network namespace (docknet's nodes only), e.g. `ss -uln`. */
  async inNodeNamespace(node: ClusterNode, argv: string[]): Promise<Observation<string>> {
    if (!node.netns) throw new Error(`${node.name} is not docknet's: its namespace cannot be entered`);
    const out = await runInNetns(node.netns, argv);
    return { value: out.stdout, how: out.how, raw: out.stderr };
  }

  private requireControl(what: string): SwarmControl {
    if (!this.cluster.control) throw new Error(`only docknet's own lab may ${what} (declare needs.disposableSwarm)`);
    return this.cluster.control;
  }

  /** Removes what this scenario made, and gives the next scenario the lab's default swarm back. Safe to call again: only what changed since is undone. */
  async tearDown(): Promise<void> {
    const labels = [`${RUN_LABEL}=${this.cluster.runId}`, `${SCENARIO_LABEL}=${this.scenarioId}`];
    const control = this.cluster.control;
    const ingress = this.ingressChanged && this.swarmUnderFaults.ingress;
    // On docknet's own lab a changed swarm is re-formed when the next scenario begins (or never, when
    // none follows and the lab stops): its overlays go with it, so they are not waited for here.
    const owed = control !== undefined && (this.reformed || this.leftNodes.length > 0 || ingress);
    await sweepCluster(this.cluster, labels, { networksGoWithSwarm: owed });
    this.reformed = false;
    this.leftNodes.splice(0);
    this.ingressChanged = false;
    if (owed) control.owe();
    else if (ingress) await this.cluster.restoreIngress();
    if (this.nodeFaultsApplied) {
      this.nodeFaultsApplied = false;
      await this.cluster.undoNodeFaults(this.ownFaults);
    }
  }
}

/** The default ingress made again on the manager, once the removed one or its replacement is gone. */
async function recreateIngressOnManager(docker: Docker): Promise<void> {
  const ingressNow = async () =>
    ((await docker.listNetworks()) as (Docker.NetworkInspectInfo & { Ingress?: boolean })[]).find((n) => n.Ingress);
  const replacement = await ingressNow();
  if (replacement?.Name === "ingress") return;
  if (replacement)
    await docker
      .getNetwork(replacement.Id)
      .remove()
      .catch(() => undefined);
  // The swarm removes a network in its own time, and refuses a new ingress while the old one is
  // there: on a slow machine the first create comes too early. Later scenarios need the mesh.
  let refused = "";
  const made = await waitFor(
    async () => {
      const now = await ingressNow();
      if (now?.Name === "ingress") return true;
      if (now)
        await docker
          .getNetwork(now.Id)
          .remove()
          .catch(() => undefined);
      await docker
        .createNetwork({
          Name: "ingress",
          Driver: "overlay",
          Ingress: true,
          CheckDuplicate: true,
        } as Docker.NetworkCreateOptions)
        .catch((error: unknown) => {
          refused = errorText(error);
        });
      return (await ingressNow())?.Name === "ingress";
    },
    30_000,
    1000,
  );
  if (!made) throw new Error(`the swarm's ingress network could not be made again: ${refused || "none appeared"}`);
}

/**
 * A swarm node (`DOCKER_HOST=<node> docker run …`): the probe is created and started there directly.
 * dockerd gives a worker's attachment to a swarm network 30 s, a fixed deadline that does not scale
 * with a slowed machine: on a loaded CI machine (seen once on OV-11, 2 cores shared) and under
 * emulation (docknet's kernel VM) the manager's answer can come later, and the attachment is there
 * for a second start. One more start everywhere, four under emulation (OV-11's encrypted overlay
 * missed it three times in the kernel VM on a machine slowed further); the evidence says so. A
 * deadline missed again stands as a finding. No fault gives this error (a network that is not
 * attachable is refused at once, with other words), so a retry hides no broken setup.
 */
class NodeProbeLauncher implements ProbeLauncher {
  readonly where: string;
  constructor(
    private readonly scope: ClusterScope,
    private readonly node: ClusterNode,
  ) {
    this.where = ` on ${node.name}`;
  }

  async launch(short: string, request: ProbeRequest): Promise<{ probe?: Probe; attempt: StartAttempt; how: string }> {
    const first = await this.startOnce(short, request);
    let latest = first;
    // Right after a swarm is re-formed, a slowed manager can miss the deadline more than once.
    const moreStarts = timeScale() > 1 ? 4 : 1;
    for (let again = 1; again <= moreStarts && !latest.probe; again++) {
      if (!ATTACH_DEADLINE.test(latest.attempt.message)) break;
      cancellationPoint();
      latest = await this.startOnce(short, request);
      latest = {
        ...latest,
        how: `${latest.how}  # started ${again + 1} times: dockerd's fixed 30 s attach deadline passed on a slowed machine (${first.attempt.message})`,
      };
    }
    return latest;
  }

  private async startOnce(
    short: string,
    request: ProbeRequest,
  ): Promise<{ probe?: Probe; attempt: StartAttempt; how: string }> {
    const { node, scope } = this;
    const name = scope.name(short);
    const networks = request.networks.length
      ? request.networks
      : [{ network: { name: "bridge", kind: "default-bridge" as const }, endpoint: {} }];
    const spec: ProbeSpec = { ...request, name, image: scope.cluster.image, labels: scope.labels(), networks };
    const how = probeCommandLine(spec, { dockerHost: node.dockerHost });
    const { create, joinBeforeStart } = probeContainerConfig(spec);
    let created: Docker.Container | undefined;
    try {
      created = await node.docker.createContainer(create);
      for (const { network, endpoint } of joinBeforeStart)
        await node.docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: endpoint });
      await created.start();
    } catch (error) {
      await created?.remove({ force: true }).catch(() => undefined);
      return { attempt: { started: false, message: errorText(error) }, how };
    }
    const handle = { ...dockerodeHandle(node.docker, created.id), runsAs: `docker -H ${node.dockerHost} exec ${name}` };
    const probe = new Probe(handle, name);
    if (spec.servers.length)
      await waitFor(async () => (await probe.exec(["test", "-e", READY_MARK])).code === 0, 10_000);
    return { probe, attempt: { started: true, message: "started", state: "running" }, how };
  }
}
