import { findCompose } from "./engine/compose-binaries.js";
import { DurationHistory } from "./duration-history.js";
import { randomBytes } from "node:crypto";
import { detectCapabilities, needOutsideHost, type Capabilities } from "./capabilities.js";
import type { Engine, EngineChoice } from "./engine/engine.js";
import { currentEngineApi, selectEngine } from "./engine/select-engine.js";
import type { PodmanBinaries } from "./engine/podman-binaries.js";
import type { FaultChoice, LabFault } from "./lab/faults.js";
import { Lab } from "./lab/lab.js";
import { VERSION } from "./version.js";
import { ensureProbeImage } from "./lab/probe-image.js";
import { audit } from "./doctor/audit.js";
import { ALL_CHECKS } from "./doctor/catalog.js";
import { explanationsFor } from "./doctor/doctor.js";
import { summarize, type Explanation, type RunReport, type ScenarioResult } from "./results.js";
import { runScenarios, type RunEvent } from "./runner.js";
import { needOwnEngine, runOnConfiguredEngines } from "./configured-engines.js";
import type { Scenario } from "./scenario.js";
import { Cluster, type ClusterNode } from "./lab/cluster.js";
import { attachLab, startMultiHostLab, type MultiHostLab } from "./engine/multi-host-lab.js";
import type { EngineSlot } from "./engine/engine-slot.js";
import { dockerodeOptions } from "./engine/docker-host.js";
import { EngineUnavailable, UsageError } from "./exit-codes.js";
import Docker from "dockerode";
import { checkMacvlanParent } from "./lab/macvlan-parent.js";
import {
  engineHostNamespace,
  openCurrentEngineOutside,
  type CurrentEngineOutside,
} from "./engine/current-engine-outside.js";

/** Where multi-host scenarios run: a lab brought up for the run, a lab that is up, or the user's own swarm. */
export type ClusterChoice =
  | { readonly lab: number; readonly managers?: number; readonly onProgress?: (message: string) => void }
  | { readonly labId: string }
  | { readonly nodes: readonly string[] };

export interface SessionOptions {
  readonly engine: EngineChoice;
  readonly daemonConfig?: Record<string, unknown>;
  /** The dockerd a private engine runs (a fetched version); the system's when absent. */
  readonly dockerd?: string;
  /** The Podman a `podman` engine serves (a fetched version); the machine's own when absent. */
  readonly podman?: PodmanBinaries;
  readonly probeImage?: string;
  /** --pull-probe: the busybox image docknet may pull for its probe when the host has no static busybox. */
  readonly pullProbe?: string;
  readonly faults?: Iterable<LabFault | FaultChoice>;
  readonly cluster?: ClusterChoice;
  /** The driver of the lab's user-defined networks (a third-party driver's conformance run). */
  readonly networkDriver?: string;
  /** An interface of the engine's host for macvlan networks (`--macvlan-parent`); never chosen by docknet. */
  readonly macvlanParent?: string;
  /** Why docknet, not root, has no way onto the engine's host (no helper container): what skips says so. */
  readonly notRoot?: string;
  /** A private engine whose host runs firewalld (--firewall firewalld). */
  readonly firewalld?: boolean;
  /** Why a private engine gets no outside host (none of the scenarios it was started for needs one). */
  readonly withoutOutsideHost?: string;
  /** Where this process's clients reach the engine, when it serves engines one after another (engine/engine-slot.ts). */
  readonly engineSlot?: EngineSlot;
}

/** An engine, the lab on it, and the engine's facts: everything a run needs. */
export interface Session {
  readonly engine: Engine;
  readonly lab: Lab;
  /** The swarm multi-host scenarios run on, when the run has one. */
  readonly cluster?: Cluster;
  readonly capabilities: Capabilities;
  /** Removes everything the run made, then stops a private engine. Safe to call twice. */
  close(): Promise<void>;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const [engineStart, labStart] = await Promise.allSettled([
    selectEngine(options.engine, {
      ...(options.daemonConfig ? { daemonConfig: options.daemonConfig } : {}),
      ...(options.dockerd ? { dockerd: options.dockerd } : {}),
      ...(options.podman ? { podman: options.podman.podman } : {}),
      ...(options.podman?.helpers ? { podmanHelpers: options.podman.helpers } : {}),
      ...(options.firewalld ? { firewalld: true } : {}),
      ...(options.withoutOutsideHost ? { outsideHost: false } : {}),
    }),
    openMultiHostLab(options),
  ]);
  const multiHostLab = labStart.status === "fulfilled" ? labStart.value : undefined;
  const ownLab = options.cluster && "lab" in options.cluster ? multiHostLab : undefined;
  if (engineStart.status === "rejected") {
    await ownLab?.stop();
    throw engineStart.reason;
  }
  const engine = engineStart.value;
  if (labStart.status === "rejected") {
    await engine.stop();
    throw labStart.reason;
  }
  let sharedOutside: CurrentEngineOutside | undefined;
  // The APIs of the swarm nodes the user named: docknet's ssh sockets for ssh:// nodes.
  const nodeApis: { close(): Promise<void> }[] = [];
  const stopAll = () =>
    Promise.all([engine.stop(), ownLab?.stop(), sharedOutside?.stop(), ...nodeApis.map((api) => api.close())]);
  try {
    // testcontainers connects once per process, to DOCKER_HOST. Ryuk would need a registry pull,
    // and so would its host detection inside a container (it runs alpine to find the gateway);
    // docknet never dials mapped ports from the harness, so the host name is moot.
    options.engineSlot?.point(engine);
    process.env.DOCKER_HOST = options.engineSlot?.dockerHost ?? engine.dockerHost;
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
    // Where docknet can run commands on the engine's host: a private engine's namespace, or a local dockerd's (as root).
    const located = await engineHostNamespace(engine, options.notRoot);
    const engineHostNetns = "netns" in located ? located.netns : undefined;
    let outsideHostMissing = "missing" in located ? located.missing : options.withoutOutsideHost;
    // A parent the user named is checked before anything is made.
    if (options.macvlanParent)
      await checkMacvlanParent(options.macvlanParent, await Lab.connection(), engineHostNetns, outsideHostMissing);
    // The current engine gets an outside host too, beside the namespace its dockerd runs in.
    if (engine.kind === "current" && engineHostNetns) {
      const opened = await openCurrentEngineOutside(engineHostNetns);
      if ("missing" in opened) outsideHostMissing = opened.missing;
      else sharedOutside = opened;
    }
    const outsideHost = engine.outsideHost ?? sharedOutside?.outsideHost;
    const runId = randomBytes(3).toString("hex");
    const image = await ensureProbeImage(await Lab.connection(), {
      ...(options.probeImage ? { override: options.probeImage } : {}),
      ...(options.pullProbe ? { pull: options.pullProbe } : {}),
    });
    const compose = await findCompose();
    const lab = await Lab.open({
      runId,
      image,
      ...(options.faults ? { faults: options.faults } : {}),
      ...(outsideHost ? { outsideHost } : {}),
      ...(engine.netns ? { engineNetns: engine.netns } : {}),
      ...(engineHostNetns ? { engineHostNetns } : {}),
      ...(engine.resolvConf ? { engineResolvConf: engine.resolvConf } : {}),
      ...(engine.firewalld ? { firewalldBus: engine.firewalld.dbusAddress } : {}),
      ...(engine.logFile ? { engineLog: engine.logFile } : {}),
      ...(engine.restart ? { restartEngine: (config: Record<string, unknown>) => engine.restart!(config) } : {}),
      ...(options.networkDriver ? { networkDriver: options.networkDriver } : {}),
      ...(options.macvlanParent ? { macvlanParent: options.macvlanParent } : {}),
      dockerHost: engine.dockerHost,
      ...(compose ? { composeBinary: compose.binary } : {}),
    });
    const cluster = options.cluster
      ? await openCluster(options.cluster, multiHostLab, runId, nodeApis, options.faults)
      : undefined;
    const detected = await detectCapabilities(
      lab.docker,
      {
        kind: engine.kind,
        dockerHost: engine.dockerHost,
        ...(engine.remote ? { remote: engine.remote } : {}),
        ...(outsideHost ? { outsideHost } : {}),
        ...(engine.netns ? { netns: engine.netns } : {}),
        ...(engineHostNetns ? { hostNetns: engineHostNetns } : {}),
        ...(outsideHostMissing ? { outsideHostMissing } : {}),
        ...("missing" in located ? { engineHostMissing: located.missing } : {}),
        ...(engine.firewalld ? { firewalld: engine.firewalld } : {}),
      },
      options.daemonConfig,
    );
    const engineFacts = {
      ...detected,
      ...(options.macvlanParent ? { macvlanParent: options.macvlanParent } : {}),
      ...(compose ? { compose } : {}),
    };
    if (options.networkDriver && !engineFacts.networkDrivers.includes(options.networkDriver)) {
      throw new UsageError(
        `the engine has no network driver ${options.networkDriver} (it has ${engineFacts.networkDrivers.join(", ")}); install the plugin first`,
      );
    }
    const capabilities = cluster
      ? {
          ...engineFacts,
          cluster: {
            nodes: cluster.nodes.length,
            disposable: cluster.control !== undefined,
            description: clusterDescription(options.cluster!, multiHostLab),
          },
        }
      : engineFacts;
    let closed = false;
    return {
      engine,
      lab,
      ...(cluster ? { cluster } : {}),
      capabilities,
      close: async () => {
        if (closed) return;
        closed = true;
        await lab.tearDown().catch(() => undefined);
        // The run's own lab stops next: a swarm re-formed only for it would be thrown away at once.
        await cluster?.tearDown({ swarmDiscarded: ownLab !== undefined }).catch(() => undefined);
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function openMultiHostLab(options: SessionOptions): Promise<MultiHostLab | undefined> {
  const choice = options.cluster;
  if (!choice) return undefined;
  if ("lab" in choice) {
    return startMultiHostLab({
      hosts: choice.lab,
      ...(choice.managers ? { managers: choice.managers } : {}),
      ...(options.dockerd ? { dockerd: options.dockerd } : {}),
      ...(choice.onProgress ? { onProgress: choice.onProgress } : {}),
    });
  }
  return "labId" in choice ? attachLab(choice.labId) : undefined;
}

/** The run's swarm: a docknet lab's nodes (which scenarios may re-form), or the nodes the user named. */
async function openCluster(
  choice: ClusterChoice,
  multiHostLab: MultiHostLab | undefined,
  runId: string,
  nodeApis: { close(): Promise<void> }[],
  faults?: Iterable<LabFault | FaultChoice>,
): Promise<Cluster> {
  if (multiHostLab) {
    return Cluster.open({ nodes: multiHostLab.nodes, runId, control: multiHostLab, ...(faults ? { faults } : {}) });
  }
  const hosts = "nodes" in choice ? choice.nodes : [];
  const nodes: ClusterNode[] = [];
  for (const [index, dockerHost] of hosts.entries()) {
    // An ssh:// node is reached as DOCKER_HOST=ssh:// is, with the user's own ssh client and config.
    const api = await currentEngineApi({ host: dockerHost, source: "--nodes" });
    if ("problem" in api) throw new EngineUnavailable(`swarm node ${dockerHost} does not answer: ${api.problem}`);
    nodeApis.push(api);
    const docker = new Docker(dockerodeOptions(api.dockerHost));
    const info = (await docker.info()) as {
      Swarm?: { NodeAddr?: string; LocalNodeState?: string; ControlAvailable?: boolean };
    };
    if (info.Swarm?.LocalNodeState !== "active")
      throw new EngineUnavailable(`${dockerHost} is not in a swarm (state ${info.Swarm?.LocalNodeState ?? "unknown"})`);
    if (index === 0 && !info.Swarm.ControlAvailable)
      throw new EngineUnavailable(`${dockerHost} is not a swarm manager: name a manager first in --nodes`);
    nodes.push({ name: `node${index + 1}`, docker, dockerHost, address: info.Swarm.NodeAddr ?? "" });
  }
  return Cluster.open({ nodes, runId, ...(faults ? { faults } : {}) });
}

function clusterDescription(choice: ClusterChoice, multiHostLab: MultiHostLab | undefined): string {
  if (multiHostLab)
    return `docknet lab ${multiHostLab.state.id}: ${multiHostLab.nodes.length} private engines in one swarm on bridge ${multiHostLab.state.subnet}`;
  return `swarm nodes ${"nodes" in choice ? choice.nodes.join(", ") : ""}`;
}

export interface ConformanceOptions {
  readonly scenarios: readonly Scenario[];
  /** Unset: defaultConcurrency of the session's engine. */
  readonly concurrency?: number;
  readonly timeoutMs: number;
  readonly strict: boolean;
  readonly repeat?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /** This engine was started for the selected scenarios' daemon configurations: run them all here. */
  readonly engineStartedForScenarios?: boolean;
  /** --keep-on-failure: where failed scenarios leave their bundles. */
  readonly keepOnFailure?: string;
  /**
   * Audit the engine a failed scenario ran on with the doctor, and attach the findings that may
   * explain it: this session's engine for those run here, each lane's own for those run on one.
   */
  readonly explain?: boolean;
}

/** `--fault ID=NAME` for each lab fault a scenario run elsewhere is under. */
function faultArgs(scenarios: readonly Scenario[], lab: Session["lab"]): string[] {
  const choices = scenarios.flatMap((s) =>
    lab
      .faultsFor(s.id)
      .filter((f) => f !== "daemon-config-dropped")
      .map((f) => `${s.id}=${f}`),
  );
  return choices.length ? ["--fault", ...choices] : [];
}

/**
 * Scenarios at once when the user did not say: 4, and 1 on Podman. Podman 4.3's aardvark-dns is
 * reloaded whenever a network is made or removed, and a lookup under way then times out (DNS-12
 * beside ISO-01 failed so, every time; each alone, or one after the other, passed).
 */
export function defaultConcurrency(capabilities: Pick<Capabilities, "profile">): number {
  return capabilities.profile.family === "podman" ? 1 : 4;
}

/** Runs scenarios on a session's lab and assembles the report reporters read. */
export async function runConformance(session: Session, options: ConformanceOptions): Promise<RunReport> {
  const concurrency = options.concurrency ?? defaultConcurrency(session.capabilities);
  const startedAt = new Date().toISOString();
  const started = performance.now();
  // Scenarios that need a daemon configuration this engine was not started with get engines of their own.
  const elsewhere = options.engineStartedForScenarios ? [] : needOwnEngine(options.scenarios, session.capabilities);
  const here = options.scenarios.filter((s) => !elsewhere.includes(s));
  const version =
    session.engine.kind === "private" ? session.capabilities.engineVersion.replace(/[^0-9.].*$/, "") : undefined;
  let engineLost: string | undefined;
  const lost = async () => (engineLost ??= await session.engine.lost());
  const history = DurationHistory.load(session.capabilities.engineVersion);
  const hints = history.hints();
  const containersBefore = session.lab.containersStarted;
  let containersElsewhere = 0;
  const explanations: Record<string, readonly Explanation[]> = {};
  const [local, configured] = await Promise.all([
    runScenarios({
      scenarios: here,
      lab: session.lab,
      ...(session.cluster ? { cluster: session.cluster } : {}),
      capabilities: session.capabilities,
      concurrency,
      timeoutMs: options.timeoutMs,
      ...(options.repeat ? { repeat: options.repeat } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.engineStartedForScenarios ? { engineStartedForScenarios: true } : {}),
      ...(options.keepOnFailure ? { keepOnFailure: options.keepOnFailure } : {}),
      engineLost: lost,
      durationHints: hints,
    }),
    runOnConfiguredEngines({
      scenarios: elsewhere,
      runArgs: [
        "--concurrency",
        String(concurrency),
        "--timeout",
        `${options.timeoutMs}ms`,
        "--repeat",
        String(options.repeat ?? 1),
        ...(options.keepOnFailure ? ["--keep-on-failure", options.keepOnFailure] : []),
        ...(version ? ["--engine-version", version] : []),
        // The same host firewall (an iptables variant goes by PATH, which children inherit).
        ...(session.engine.firewalld ? ["--firewall", "firewalld"] : []),
        // Each scenario's lab faults go with it (daemon-config-dropped is the engine's config, below).
        ...faultArgs(elsewhere, session.lab),
      ],
      dropConfig: (scenario) => session.lab.hasFault("daemon-config-dropped", scenario.id),
      needsOutsideHost: (scenario) => needOutsideHost(scenario.requires, session.capabilities),
      durationHints: hints,
      ...(version ? { sameVersionAs: session.capabilities } : {}),
      ...(session.capabilities.profile.family === "podman"
        ? {
            unavailable:
              "the engine is Podman: a daemon.json, and the dockerd restarts and swarm these scenarios make, are Docker's",
          }
        : session.capabilities.rootless
          ? {
              unavailable:
                "the engine is rootless: docknet's engines for a daemon.json, a restart or a swarm are rootful, another profile",
            }
          : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onResult: (result) => options.onEvent?.({ type: "finished", result }),
      onContainersStarted: (count) => (containersElsewhere += count),
      onExplanations: (found) => Object.assign(explanations, found),
    }),
  ]);
  // Not when interrupted or the engine is gone: an audit then explains nothing and delays the exit.
  if (options.explain && !options.signal?.aborted && !engineLost) {
    Object.assign(explanations, await explainFailures(local, session.engine.dockerHost).catch(() => ({})));
  }
  // Results in the order the scenarios were selected.
  const order = new Map(options.scenarios.map((s, i) => [s.id, i]));
  const results = [...local, ...configured].sort(
    (a, b) => order.get(a.id)! - order.get(b.id)! || a.attempt - b.attempt,
  );
  // An interrupted run's durations are cut short: they would mislead the next run's order.
  if (!options.signal?.aborted && !engineLost) history.record(local);
  return {
    tool: { name: "docknet", version: VERSION },
    runId: session.lab.runId,
    startedAt,
    engine: { description: session.engine.description, ...session.capabilities },
    strict: options.strict,
    results,
    summary: {
      ...summarize(results, performance.now() - started),
      containersStarted: session.lab.containersStarted - containersBefore + containersElsewhere,
    },
    ...(Object.keys(explanations).length ? { explanations } : {}),
    ...(engineLost ? { engineLost } : {}),
  };
}

/**
 * When scenarios failed, audits the engine they ran on with the doctor and
 * returns the findings that may explain each failure (a failed egress scenario
 * and ip_forward=0, say). Passing runs are not audited.
 */
async function explainFailures(
  results: readonly ScenarioResult[],
  dockerHost: string,
): Promise<Record<string, Explanation[]>> {
  const failed = [...new Set(results.filter((r) => r.status === "failed" || r.status === "error").map((r) => r.id))];
  if (failed.length === 0) return {};
  const diagnosis = await audit({ dockerHost, checks: ALL_CHECKS, version: VERSION });
  const explanations: Record<string, Explanation[]> = {};
  for (const id of failed) {
    const found = explanationsFor(id, diagnosis.results).map((r) => ({
      check: r.id,
      severity: r.severity!,
      title: r.title,
      seen: r.seen,
      fix: r.fix,
    }));
    if (found.length) explanations[id] = found;
  }
  return explanations;
}
