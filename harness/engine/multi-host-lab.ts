import { scaled } from "../time-scale.js";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readLocalKernelConfig } from "../kernel-config.js";
import { join } from "node:path";
import Docker from "dockerode";
import { EngineUnavailable } from "../exit-codes.js";
import { isProcessAlive, runOrFail } from "../host-command.js";
import { waitFor } from "../polling.js";
import { dockerodeOptions, pingEngine } from "./docker-host.js";
import { joinSwarm, leaveSwarm } from "./swarm-membership.js";
import { errorText } from "../lab/docker-api.js";
import { createNamespace, listNamespaces, removeNamespace, runInNetns } from "./netns.js";
import {
  engineStatesOfLab,
  restartPrivateEngine,
  startPrivateEngine,
  stateRoot,
  stopPrivateEngine,
} from "./private-engine.js";

/**
 * A multi-host lab: several private engines, each in its own network
 * namespace with one address on a lab bridge (in a namespace of its own, so
 * nothing of it touches the host's network), formed into a real swarm.
 */

/** The lab network: the "LAN" between the nodes. It exists only inside the lab's namespaces. */
export const LAB_SUBNET = "10.214.0.0/24";
const nodeAddress = (index: number) => `10.214.0.${11 + index}`;

export interface LabNodeState {
  readonly name: string;
  readonly role: "manager" | "worker";
  readonly address: string;
  readonly dockerHost: string;
  readonly engineId: string;
  readonly netns: string;
}

/** What a lab leaves on disk: `docknet lab status/down` and `docknet clean` work from it. */
export interface MultiHostLabState {
  readonly id: string;
  /** The process that brought the lab up; with `held`, the lab outlives it. */
  readonly ownerPid: number;
  /** Brought up by `docknet lab up`: it stays until `docknet lab down`. */
  held: boolean;
  readonly hubNetns: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly startedAt: string;
  nodes: LabNodeState[];
}

/** How a swarm is initialised: the options of `docker swarm init` scenarios vary. */
export interface SwarmOptions {
  readonly dataPathPort?: number;
  readonly defaultAddrPool?: { readonly subnet: string; readonly maskLength: number };
}

export interface LabNode extends LabNodeState {
  readonly docker: Docker;
}

export interface MultiHostLab {
  readonly state: MultiHostLabState;
  readonly nodes: readonly LabNode[];
  /** Every node leaves the swarm, and the nodes form a new one with these options. */
  reform(options?: SwarmOptions): Promise<void>;
  /**
   * The swarm is no longer the default one (a scenario re-formed it, or a node left): the next
   * settle() re-forms it, unless a reform comes first or the lab stops (then nobody needs it).
   */
  owe(): void;
  /** Re-forms the default swarm if one is owed: once, however many ask at the same time. */
  settle(): Promise<void>;
  /** Stops every node and removes the lab's namespaces, veths, bridge and run directory. */
  stop(): Promise<void>;
}

export interface LabUpOptions {
  readonly hosts: number;
  readonly managers?: number;
  readonly dockerd?: string;
  /** Kept after this process exits (`docknet lab up`); otherwise the caller stops it. */
  readonly held?: boolean;
  readonly onProgress?: (message: string) => void;
}

function labsDir(): string {
  return join(stateRoot(), "labs");
}

function labDir(id: string): string {
  return join(labsDir(), id);
}

function writeLabState(state: MultiHostLabState): void {
  writeFileSync(join(labDir(state.id), "lab.json"), JSON.stringify(state, null, 2));
}

export function readLabState(id: string): MultiHostLabState | undefined {
  try {
    return JSON.parse(readFileSync(join(labDir(id), "lab.json"), "utf8")) as MultiHostLabState;
  } catch {
    return undefined;
  }
}

/** Every lab with a directory, newest first. */
export function listLabs(): MultiHostLabState[] {
  const ids = existsSync(labsDir()) ? readdirSync(labsDir()) : [];
  return ids.map((id) => readLabState(id) ?? bareLab(id)).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** All that can be known of a lab whose state file is gone or unreadable: its id names its namespace. */
function bareLab(id: string): MultiHostLabState {
  return {
    id,
    ownerPid: 0,
    held: false,
    hubNetns: hubNetnsOf(id),
    bridge: "br-lab",
    subnet: LAB_SUBNET,
    startedAt: "",
    nodes: [],
  };
}

/** A lab is held while `lab up` keeps it, or while the process that started it for a run lives. */
function isHeld(state: MultiHostLabState): boolean {
  return state.held || isProcessAlive(state.ownerPid);
}

export function labIsHeld(id: string): boolean {
  const state = readLabState(id);
  return state !== undefined && isHeld(state);
}

const hubNetnsOf = (id: string) => `docknet-lab-${id}`;

export function validateLabSize(hosts: number, managers: number): string | undefined {
  if (!Number.isInteger(hosts) || hosts < 2 || hosts > 9)
    return `--hosts must be a whole number from 2 to 9 (got ${hosts})`;
  if (!Number.isInteger(managers) || managers < 1 || managers > hosts)
    return `--managers must be from 1 to the number of hosts, ${hosts} (got ${managers})`;
  return undefined;
}

/**
 * A lab id: six hex digits with at least one letter, so that `--lab ID` can
 * never read as a number of hosts (one id in 16 would be all digits).
 */
export function newLabId(random: () => string = () => randomBytes(3).toString("hex")): string {
  for (;;) {
    const id = random();
    if (/[a-f]/.test(id)) return id;
  }
}

/**
 * Brings a lab up: the lab bridge, N engines linked to it, the swarm (node 1
 * initialises it, the other managers then the workers join), and waits until
 * every node is Ready. Anything that fails takes down what was made.
 */
export async function startMultiHostLab(options: LabUpOptions): Promise<MultiHostLab> {
  const managers = options.managers ?? 1;
  const invalid = validateLabSize(options.hosts, managers);
  if (invalid) throw new Error(invalid);
  const progress = options.onProgress ?? (() => {});
  const id = newLabId();
  mkdirSync(labDir(id), { recursive: true });
  const state: MultiHostLabState = {
    id,
    ownerPid: process.pid,
    held: false,
    hubNetns: hubNetnsOf(id),
    bridge: "br-lab",
    subnet: LAB_SUBNET,
    startedAt: new Date().toISOString(),
    nodes: [],
  };
  // On disk before anything exists, so that `docknet clean` finds a lab whose start was killed.
  writeLabState(state);
  const nodes: LabNode[] = [];
  try {
    progress(`lab ${id}: bridge ${state.bridge} in namespace ${state.hubNetns}`);
    await createNamespace(state.hubNetns, `lab ${id}: `, 10_000);
    await runOrFail("ip", ["-n", state.hubNetns, "link", "add", state.bridge, "type", "bridge"], `lab ${id}: `, 10_000);
    await runOrFail("ip", ["-n", state.hubNetns, "link", "set", state.bridge, "up"], `lab ${id}: `, 10_000);

    progress(`lab ${id}: starting ${options.hosts} engines`);
    // Sandboxes a node's dockerd creates (ingress, load balancers) inherit IPv4 forwarding from this
    // machine's root namespace, not from the node's: off there, IPVS drops the replies it forwards.
    if (
      readLocalKernelConfig()?.has("CONFIG_IP_VS") &&
      readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim() === "0"
    ) {
      progress(
        `lab ${id}: net.ipv4.ip_forward is 0 in this machine's root namespace: the swarm's ingress and VIP sandboxes inherit it, so the routing mesh and service VIPs will carry nothing (a host running Docker has it on: sysctl -w net.ipv4.ip_forward=1)`,
      );
    }
    const started = await Promise.allSettled(
      Array.from({ length: options.hosts }, (_, index) =>
        startPrivateEngine({
          ...(options.dockerd ? { dockerd: options.dockerd } : {}),
          uplink: { labId: id, hubNetns: state.hubNetns, bridge: state.bridge, address: `${nodeAddress(index)}/24` },
        }).then((engine) => ({ engine, index })),
      ),
    );
    for (const outcome of started) {
      if (outcome.status === "rejected") throw outcome.reason;
      const { engine, index } = outcome.value;
      nodes.push({
        name: `node${index + 1}`,
        role: index < managers ? "manager" : "worker",
        address: nodeAddress(index),
        dockerHost: engine.dockerHost,
        engineId: engine.netns!.replace(/^docknet-/, ""),
        netns: engine.netns!,
        docker: new Docker(dockerodeOptions(engine.dockerHost)),
      });
    }
    nodes.sort((a, b) => a.address.localeCompare(b.address, "en", { numeric: true }));
    state.nodes = nodes.map(({ docker: _docker, ...node }) => node);
    writeLabState(state);

    progress(
      `lab ${id}: forming the swarm (${managers} manager${managers > 1 ? "s" : ""}, ${options.hosts - managers} worker${options.hosts - managers === 1 ? "" : "s"})`,
    );
    await formSwarm(nodes);
    state.held = options.held ?? false;
    writeLabState(state);
  } catch (error) {
    await stopLab(state);
    throw error;
  }
  return labOf(state, nodes);
}

function labOf(state: MultiHostLabState, nodes: readonly LabNode[]): MultiHostLab {
  let owed = false;
  let settling: Promise<void> | undefined;
  const lab: MultiHostLab = {
    state,
    nodes,
    owe: () => {
      owed = true;
    },
    settle() {
      if (!owed) return settling ?? Promise.resolve();
      settling ??= lab.reform().finally(() => (settling = undefined));
      return settling;
    },
    async reform(swarmOptions = {}) {
      owed = false;
      // A node that does not leave (already out, or stuck) is found by the swarm init or join below.
      await Promise.all(nodes.map((node) => leaveSwarm(node.docker)));
      // A worker that left can keep its gossip port (7946) open for good (seen on 20.10); rejoining then
      // leaves it without its network agent, and overlays silently carry nothing to it. Such a node's
      // dockerd is restarted, as an administrator would. 28.5 closes the port within 50 ms of the
      // leave; 20.10 and 26.1 never did in 6 s: waiting longer than half a second only delays the restart.
      await Promise.all(
        nodes.map(async (node) => {
          if (
            await waitForGossipPort(node, false, 500).then(
              () => false,
              () => true,
            )
          ) {
            await restartPrivateEngine(node.engineId);
            await waitForGossipPort(node, false);
          }
        }),
      );
      await formSwarm(nodes, swarmOptions);
    },
    stop: () => stopLab(state),
  };
  return lab;
}

/** A lab brought up earlier (`docknet lab up`), to run on; its nodes must answer. */
export async function attachLab(id: string): Promise<MultiHostLab> {
  const state = readLabState(id);
  if (!state) throw new EngineUnavailable(`no lab ${id}: docknet lab status lists the labs that are up`);
  const nodes = state.nodes.map((node) => ({ ...node, docker: new Docker(dockerodeOptions(node.dockerHost)) }));
  for (const node of nodes) {
    const problem = await pingEngine(node.dockerHost);
    if (problem !== undefined)
      throw new EngineUnavailable(`lab ${id}: ${node.name} does not answer at ${node.dockerHost}: ${problem}`);
  }
  return labOf(state, nodes);
}

/** Node 1 initialises the swarm; managers join one at a time (raft), workers together; then all must be Ready. */
async function formSwarm(nodes: readonly LabNode[], options: SwarmOptions = {}): Promise<void> {
  const [first, ...others] = nodes;
  if (!first) return;
  await first.docker.swarmInit({
    ListenAddr: `${first.address}:2377`,
    AdvertiseAddr: first.address,
    ...(options.dataPathPort ? { DataPathPort: options.dataPathPort } : {}),
    ...(options.defaultAddrPool
      ? { DefaultAddrPool: [options.defaultAddrPool.subnet], SubnetSize: options.defaultAddrPool.maskLength }
      : {}),
  });
  const swarm = (await first.docker.swarmInspect()) as { JoinTokens: { Manager: string; Worker: string } };
  const join = (node: LabNode) =>
    joinSwarm(node.docker, {
      ListenAddr: `${node.address}:2377`,
      AdvertiseAddr: node.address,
      RemoteAddrs: [`${first.address}:2377`],
      JoinToken: node.role === "manager" ? swarm.JoinTokens.Manager : swarm.JoinTokens.Worker,
    }).catch((error: unknown) => {
      throw new EngineUnavailable(`lab swarm: ${node.name} did not join: ${errorText(error)}`);
    });
  for (const manager of others.filter((n) => n.role === "manager")) await join(manager);
  await Promise.all(others.filter((n) => n.role === "worker").map(join));
  await waitForReadyNodes(first.docker, nodes.length);
  await Promise.all(nodes.map((node) => waitForGossipPort(node, true)));
}

/** Waits until the node's network agent listens on the gossip port (7946/tcp), or no longer does. */
async function waitForGossipPort(node: LabNode, listening: boolean, timeoutMs = 20_000): Promise<void> {
  const reached = await waitFor(
    async () =>
      ((await runInNetns(node.netns, ["ss", "-Htln", "sport = :7946"], 5000)).stdout.trim() !== "") === listening,
    timeoutMs,
    200,
  );
  if (!reached) {
    throw new EngineUnavailable(
      `lab ${node.name}: the swarm's network agent ${listening ? "did not start" : "did not stop"} (7946/tcp) within ${scaled(timeoutMs) / 1000}s`,
    );
  }
}

async function waitForReadyNodes(manager: Docker, count: number, timeoutMs = 30_000): Promise<void> {
  let ready = 0;
  const allReady = await waitFor(
    async () => {
      const listed = (await manager.listNodes()) as { Status?: { State?: string } }[];
      ready = listed.filter((n) => n.Status?.State === "ready").length;
      return ready >= count;
    },
    timeoutMs,
    200,
  );
  if (!allReady) throw new EngineUnavailable(`lab swarm: ${ready} of ${count} nodes ready after ${timeoutMs / 1000}s`);
}

/** Stops a lab from its state alone (its own process, `lab down`, or `clean` after a crash). Safe to call twice. */
export async function stopLab(state: Pick<MultiHostLabState, "id" | "hubNetns">): Promise<void> {
  await Promise.all(engineStatesOfLab(state.id).map((engine) => stopPrivateEngine(engine)));
  await removeNamespace(state.hubNetns);
  rmSync(labDir(state.id), { recursive: true, force: true });
}

/** Labs whose start was killed, or whose run's process is gone: what `docknet clean` removes. */
export function orphanedLabs(): MultiHostLabState[] {
  const labs = listLabs();
  const orphans = labs.filter((lab) => !isHeld(lab));
  // A hub namespace whose lab directory is gone (a crash between the two removals).
  const known = new Set(labs.map((lab) => lab.hubNetns));
  for (const netns of listNamespaces()) {
    const id = /^docknet-lab-([0-9a-f]+)$/.exec(netns)?.[1];
    if (id && !known.has(netns)) orphans.push(bareLab(id));
  }
  return orphans;
}
