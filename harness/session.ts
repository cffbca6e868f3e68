import { randomBytes } from "node:crypto";
import { detectCapabilities, type Capabilities } from "./capabilities.js";
import type { Engine, EngineChoice } from "./engine/engine.js";
import { selectEngine } from "./engine/select-engine.js";
import type { LabFault } from "./lab/faults.js";
import { Lab } from "./lab/lab.js";
import { VERSION } from "./version.js";
import { ensureProbeImage } from "./lab/probe-image.js";
import { audit } from "./doctor/audit.js";
import { ALL_CHECKS } from "./doctor/catalog.js";
import { explanationsFor } from "./doctor/doctor.js";
import { summarize, type Explanation, type RunReport } from "./results.js";
import { runScenarios, type RunEvent } from "./runner.js";
import { needOwnEngine, runOnConfiguredEngines } from "./configured-engines.js";
import type { Scenario } from "./scenario.js";


export interface SessionOptions {
  readonly engine: EngineChoice;
  readonly daemonConfig?: Record<string, unknown>;
  /** The dockerd a private engine runs (a fetched version); the system's when absent. */
  readonly dockerd?: string;
  readonly probeImage?: string;
  readonly faults?: Iterable<LabFault>;
}

/** An engine, the lab on it, and the engine's facts: everything a run needs. */
export interface Session {
  readonly engine: Engine;
  readonly lab: Lab;
  readonly capabilities: Capabilities;
  /** Removes everything the run made, then stops a private engine. Safe to call twice. */
  close(): Promise<void>;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const engine = await selectEngine(options.engine, {
    ...(options.daemonConfig ? { daemonConfig: options.daemonConfig } : {}),
    ...(options.dockerd ? { dockerd: options.dockerd } : {}),
  });
  try {
    // testcontainers connects once per process, to DOCKER_HOST. Ryuk would need a registry pull,
    // and so would its host detection inside a container (it runs alpine to find the gateway);
    // docknet never dials mapped ports from the harness, so the host name is moot.
    process.env.DOCKER_HOST = engine.dockerHost;
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
    const runId = randomBytes(3).toString("hex");
    const image = await ensureProbeImage(await Lab.connection(), options.probeImage);
    const lab = await Lab.open({
      runId,
      image,
      ...(options.faults ? { faults: options.faults } : {}),
      ...(engine.outsideHost ? { outsideHost: engine.outsideHost } : {}),
      ...(engine.netns ? { engineNetns: engine.netns } : {}),
      ...(engine.restart ? { restartEngine: (config: Record<string, unknown>) => engine.restart!(config) } : {}),
    });
    const capabilities = await detectCapabilities(lab.docker, engine, options.daemonConfig);
    let closed = false;
    return {
      engine,
      lab,
      capabilities,
      close: async () => {
        if (closed) return;
        closed = true;
        await lab.tearDown().catch(() => undefined);
        await engine.stop();
      },
    };
  } catch (error) {
    await engine.stop();
    throw error;
  }
}

export interface ConformanceOptions {
  readonly scenarios: readonly Scenario[];
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly strict: boolean;
  readonly repeat?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /** This engine was started for the selected scenarios' daemon configurations: run them all here. */
  readonly engineStartedForScenarios?: boolean;
}

/** Runs scenarios on a session's lab and assembles the report reporters read. */
export async function runConformance(session: Session, options: ConformanceOptions): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  // Scenarios that need a daemon configuration this engine was not started with get engines of their own.
  const elsewhere = options.engineStartedForScenarios ? [] : needOwnEngine(options.scenarios, session.capabilities);
  const here = options.scenarios.filter((s) => !elsewhere.includes(s));
  const version = session.engine.kind === "private" ? session.capabilities.engineVersion.replace(/[^0-9.].*$/, "") : undefined;
  const [local, configured] = await Promise.all([
    runScenarios({
      scenarios: here,
      lab: session.lab,
      capabilities: session.capabilities,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      ...(options.repeat ? { repeat: options.repeat } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.engineStartedForScenarios ? { engineStartedForScenarios: true } : {}),
    }),
    runOnConfiguredEngines({
      scenarios: elsewhere,
      runArgs: [
        "--concurrency", String(options.concurrency),
        "--timeout", `${options.timeoutMs}ms`,
        "--repeat", String(options.repeat ?? 1),
        ...(version ? ["--engine-version", version] : []),
      ],
      dropConfig: session.lab.hasFault("daemon-config-dropped"),
      ...(options.signal ? { signal: options.signal } : {}),
      onResult: (result) => options.onEvent?.({ type: "finished", result }),
    }),
  ]);
  // Results in the order the scenarios were selected.
  const order = new Map(options.scenarios.map((s, i) => [s.id, i]));
  const results = [...local, ...configured].sort((a, b) => order.get(a.id)! - order.get(b.id)! || a.attempt - b.attempt);
  return {
    tool: { name: "docknet", version: VERSION },
    runId: session.lab.runId,
    startedAt,
    engine: { description: session.engine.description, ...session.capabilities },
    strict: options.strict,
    results,
    summary: summarize(results, performance.now() - started),
  };
}

/**
 * When scenarios failed, audits the same engine with the doctor and attaches
 * the findings that may explain each failure (a failed egress scenario and
 * ip_forward=0, say). Passing runs are not audited.
 */
export async function explainFailures(report: RunReport, dockerHost: string): Promise<RunReport> {
  const failed = [...new Set(report.results.filter((r) => r.status === "failed" || r.status === "error").map((r) => r.id))];
  if (failed.length === 0) return report;
  const diagnosis = await audit({ dockerHost, checks: ALL_CHECKS, version: VERSION });
  const explanations: Record<string, Explanation[]> = {};
  for (const id of failed) {
    const found = explanationsFor(id, diagnosis.results).map((r) => ({ check: r.id, severity: r.severity!, title: r.title, seen: r.seen, fix: r.fix }));
    if (found.length) explanations[id] = found;
  }
  return Object.keys(explanations).length ? { ...report, explanations } : report;
}
