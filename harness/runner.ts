import { daemonConfigSatisfies, missingRequirements, needs, type Capabilities } from "./capabilities.js";
import { CheckFailed, type Evidence } from "./evidence.js";
import type { Cluster } from "./lab/cluster.js";
import type { Lab } from "./lab/lab.js";
import type { ScenarioResult } from "./results.js";
import { inClaimPool, type PoolClaim } from "./work-pool.js";
import { join } from "node:path";
import { collectFailureBundle } from "./lab/failure-bundle.js";
import {
  runsOnCluster,
  scenarioContext,
  ScenarioSkipped,
  type Scenario,
  type DocumentedDifference,
  type VersionKey,
} from "./scenario.js";
import { scaled, timeScale } from "./time-scale.js";
import { runCancellable } from "./cancellation.js";
import { errorText } from "./lab/docker-api.js";

export type RunEvent =
  | { readonly type: "started"; readonly scenario: Scenario; readonly attempt: number }
  | { readonly type: "finished"; readonly result: ScenarioResult };

export interface RunOptions {
  readonly scenarios: readonly Scenario[];
  readonly lab: Lab;
  /** The swarm multi-host scenarios run on, when the run has one. */
  readonly cluster?: Cluster;
  readonly capabilities: Capabilities;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly repeat?: number;
  /**
   * Aborting (Ctrl-C, SIGTERM; the reason names it) stops scheduling and cancels the scenarios
   * under way at once; their teardown still runs. Every scenario still gets a result: those cut
   * short and those never started are skipped, marked interrupted.
   */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * The engine was started for these scenarios' daemon configurations (a child
   * run of runOnConfiguredEngines): run them whatever its configuration, even
   * when a broken setup started it without.
   */
  readonly engineStartedForScenarios?: boolean;
  /** --keep-on-failure: a directory where each failed or broken scenario leaves a bundle, collected before its teardown. */
  readonly keepOnFailure?: string;
  /** How long a scenario cut short may take to reach a cancellation point before its teardown runs anyway (default 10 s). */
  readonly abandonedBodyGraceMs?: number;
  /**
   * How long each scenario took last time (duration-history.ts): among the single-host scenarios that
   * share the engine, the longest start first, and those never measured before them.
   */
  readonly durationHints?: ReadonlyMap<string, number>;
  /** Asked after a scenario breaks: why the engine can no longer be used (it died), or undefined; a loss stops the run. */
  readonly engineLost?: () => Promise<string | undefined>;
}

class ScenarioTimeout extends Error {
  override readonly name = "ScenarioTimeout";
}

/**
 * How long a scenario cut short may take to stop before its teardown runs anyway. Probe actions and
 * waits stop at once; an engine call under way (a container being created) is waited for, so that
 * teardown finds what it made.
 */
const ABANDONED_BODY_GRACE_MS = 10_000;

class ScenarioInterrupted extends Error {
  override readonly name = "ScenarioInterrupted";
}

/** "interrupted by SIGINT": what stopped the run, from the abort's reason. */
export function interruption(signal: AbortSignal | undefined): string {
  return typeof signal?.reason === "string" ? `interrupted by ${signal.reason}` : "interrupted";
}

/**
 * Runs scenarios with a concurrency limit and a per-scenario timeout. A
 * scenario whose requirements are missing is skipped with the reason; each
 * one that runs gets its own lab scope, torn down whatever happens.
 */
export async function runScenarios(options: RunOptions): Promise<ScenarioResult[]> {
  const jobs = options.scenarios.flatMap((scenario) =>
    Array.from({ length: Math.max(1, options.repeat ?? 1) }, (_, i) => ({ scenario, attempt: i + 1 })),
  );
  const results: { index: number; result: ScenarioResult }[] = [];
  let engineLost: string | undefined;
  const runJob = async (index: number) => {
    const { scenario, attempt } = jobs[index]!;
    options.onEvent?.({ type: "started", scenario, attempt });
    let result = await runOne(scenario, attempt, options);
    // A scenario that broke may have broken because the engine is gone: then say that, and start no more.
    if (result.status === "error" && options.engineLost) {
      engineLost ??= await options.engineLost();
      if (engineLost)
        result = { ...result, reason: `${engineLost} (the scenario saw: ${result.reason ?? "an error"})` };
    }
    results.push({ index, result });
    options.onEvent?.({ type: "finished", result });
  };
  const stopped = () => Boolean(options.signal?.aborted) || engineLost !== undefined;
  // Those alone on the engine first, one after another: meanwhile the engines of the daemon.json
  // scenarios start in processes of their own (run last, they left the machine half idle at the end).
  // Then the shared jobs, attempt after attempt; then those alone on the swarm (which thus wait until
  // the shared ones on it are done). A scenario's attempts run one after another: two at once would
  // ask for the same subnets, names and ports.
  // Longest first only where scenarios run side by side on the engine: those alone gain nothing from
  // it, and the swarm's keep the order they are written in (they re-form one swarm, one after another).
  const hints = options.durationHints ?? new Map<string, number>();
  const expected = (scenario: Scenario, alone: boolean) =>
    alone || runsOnCluster(scenario) ? -Infinity : (hints.get(scenario.id) ?? (hints.size ? Infinity : 0));
  const longerFirst = (a: number, b: number) => (a === b ? 0 : b - a);
  const rank = (claim: PoolClaim<string>) => (claim.alone ? (claim.uses.includes("swarm") ? 2 : 0) : 1);
  const order = jobs
    .map((job, index) => {
      const claim = claimOf(job.scenario);
      return { ...job, index, claim, expected: expected(job.scenario, claim.alone) };
    })
    .sort(
      (a, b) =>
        rank(a.claim) - rank(b.claim) ||
        a.attempt - b.attempt ||
        longerFirst(a.expected, b.expected) ||
        a.index - b.index,
    );
  const position = new Map(order.map((job, at) => [job.index, at]));
  // Jobs are listed scenario by scenario, attempt after attempt: the one before is the earlier attempt.
  const previous = (index: number) => (jobs[index]!.attempt > 1 ? position.get(index - 1) : undefined);
  await inClaimPool(
    order.map((job) => {
      const after = previous(job.index);
      return after === undefined ? job.claim : { ...job.claim, after };
    }),
    options.concurrency,
    (at) => runJob(order[at]!.index),
    stopped,
  );
  // What an interrupted run never started still has a verdict: not run, and why.
  if (options.signal?.aborted) {
    const ran = new Set(results.map((r) => r.index));
    jobs.forEach(({ scenario, attempt }, index) => {
      if (ran.has(index)) return;
      const result: ScenarioResult = {
        ...resultIdentity(scenario, attempt),
        status: "skipped",
        durationMs: 0,
        evidence: [],
        reason: `${interruption(options.signal)} before it started`,
      };
      results.push({ index, result });
      options.onEvent?.({ type: "finished", result });
    });
  }
  return results.sort((a, b) => a.index - b.index).map((r) => r.result);
}

/**
 * What a scenario holds while it runs. Single-host scenarios share the engine, except those that
 * change what every scenario on it sees (`exclusive`). Swarm scenarios share the swarm, each with
 * overlays, services and ports of its own, except those that re-form it or take its ingress (they
 * declare needs.disposableSwarm); the engine and the swarm are separate engines, so work on one
 * goes on while the other is held. Under emulation a swarm scenario runs alone on everything:
 * dockerd's 30 s deadline for attaching to an overlay does not stretch with the emulation, and
 * load beside it makes that deadline pass.
 */
function claimOf(scenario: Scenario): PoolClaim<"engine" | "swarm"> {
  if (!runsOnCluster(scenario)) return { uses: ["engine"], alone: scenario.exclusive === true };
  if (timeScale() > 1) return { uses: ["engine", "swarm"], alone: true };
  return {
    uses: ["swarm"],
    alone: scenario.exclusive === true || scenario.requires.includes(needs.disposableSwarm),
  };
}

/** What every result of a scenario's attempt carries, whatever its verdict. */
export function resultIdentity(
  scenario: Scenario,
  attempt: number,
): Pick<ScenarioResult, "id" | "title" | "area" | "doc" | "tags" | "attempt"> {
  return {
    id: scenario.id,
    title: scenario.title,
    area: scenario.area,
    doc: scenario.doc,
    tags: scenario.tags,
    attempt,
  };
}

async function runOne(scenario: Scenario, attempt: number, options: RunOptions): Promise<ScenarioResult> {
  const base = resultIdentity(scenario, attempt);
  const missing = missingRequirements(scenario.requires, options.capabilities);
  if (
    scenario.daemon &&
    !options.engineStartedForScenarios &&
    !daemonConfigSatisfies(options.capabilities.daemonConfig, scenario.daemon)
  ) {
    missing.push(
      `engine was not started with daemon.json ${JSON.stringify(scenario.daemon)} (docknet run starts a private engine with it)`,
    );
  }
  if (missing.length > 0) {
    return { ...base, status: "skipped", durationMs: 0, evidence: [], reason: missing.join("; ") };
  }
  const evidence: Evidence[] = [];
  const versionKeys: VersionKey[] = [];
  const differences: DocumentedDifference[] = [];
  const keys = () => ({
    ...(versionKeys.length ? { versionKeys: [...versionKeys] } : {}),
    ...(differences.length ? { documentedDifferences: [...differences] } : {}),
  });
  const scopeId = attempt > 1 ? `${scenario.id}-${attempt}` : scenario.id;
  const scope = options.lab.scope(scopeId, scenario.id);
  const clusterScope =
    options.cluster && runsOnCluster(scenario) ? options.cluster.scope(scopeId, scenario.id) : undefined;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let body: Promise<void> | undefined;
  let settled = false;
  let verdict: ScenarioResult | undefined;
  const teardownProblems: string[] = [];
  const startedAt = new Date();
  // The scenario's cancellation, by its timeout or the run's interrupt: the verdict is given at once,
  // and the probe actions and waits the body is in stop with the same reason (harness/cancellation.ts).
  const cancel = new AbortController();
  try {
    const cancelled = new Promise<never>((_, reject) =>
      cancel.signal.addEventListener("abort", () => reject(cancel.signal.reason as Error), { once: true }),
    );
    timer = setTimeout(
      () => cancel.abort(new ScenarioTimeout(`timed out after ${scaled(options.timeoutMs) / 1000}s`)),
      scaled(options.timeoutMs),
    );
    onAbort = () =>
      cancel.abort(
        new ScenarioInterrupted(
          `${interruption(options.signal)} after ${((performance.now() - started) / 1000).toFixed(1)}s: not finished`,
        ),
      );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    await clusterScope?.begin();
    body = runCancellable(cancel.signal, () =>
      scenario.run(scenarioContext(scope, options.capabilities, evidence, versionKeys, clusterScope, differences)),
    );
    body.then(
      () => (settled = true),
      () => (settled = true),
    );
    await Promise.race([body, cancelled]);
    verdict = { ...base, status: "passed", durationMs: performance.now() - started, evidence, ...keys() };
  } catch (error) {
    verdict = failureVerdict(error);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    if (verdict) verdict = await withSharedTopologyChecked(verdict);
    // What failed is kept for a person before teardown removes it.
    if (options.keepOnFailure && verdict && (verdict.status === "failed" || verdict.status === "error")) {
      const dir = join(options.keepOnFailure, scope.lab.runId, scopeId);
      await collectFailureBundle(scope, dir, verdict, startedAt);
    }
    await tearDownAll();
  }
  // The verdict stands; what teardown could not remove is said beside it.
  return teardownProblems.length ? { ...verdict!, teardown: [...new Set(teardownProblems)].join("; ") } : verdict!;

  /** A scenario that changed a topology it shared with others fails, whatever it observed (shared-topology.ts). */
  async function withSharedTopologyChecked(result: ScenarioResult): Promise<ScenarioResult> {
    if (result.status === "skipped") return result;
    const changed = await scope.sharedTopologyChanges().catch((error: unknown) => {
      teardownProblems.push(`the shared topologies could not be checked: ${errorText(error)}`);
      return [];
    });
    if (!changed.length) return result;
    const said = changed.map((e) => `${e.claim}: expected ${e.expected}, observed ${e.observed}`).join("; ");
    return {
      ...result,
      status: "failed",
      evidence: [...result.evidence, ...changed],
      reason: result.status === "passed" ? said : `${result.reason ?? result.status}; and ${said}`,
    };
  }

  function failureVerdict(error: unknown): ScenarioResult {
    const durationMs = performance.now() - started;
    // A copy: a body cut short may still record evidence until it reaches a cancellation point.
    const recorded = [...evidence];
    if (error instanceof CheckFailed) {
      // A refusal raised outside a check (a probe the engine would not start) still belongs in the evidence.
      if (recorded.at(-1) !== error.evidence) recorded.push(error.evidence);
      return { ...base, status: "failed", durationMs, evidence: recorded, reason: error.message, ...keys() };
    }
    if (error instanceof ScenarioSkipped)
      return { ...base, status: "skipped", durationMs, evidence: recorded, reason: error.message, ...keys() };
    if (error instanceof ScenarioTimeout)
      return { ...base, status: "failed", durationMs, evidence: recorded, reason: error.message, ...keys() };
    if (error instanceof ScenarioInterrupted || options.signal?.aborted) {
      return {
        ...base,
        status: "skipped",
        durationMs,
        evidence: recorded,
        reason: error instanceof ScenarioInterrupted ? error.message : `${interruption(options.signal)}: not finished`,
        ...keys(),
      };
    }
    return {
      ...base,
      status: "error",
      durationMs,
      evidence: recorded,
      reason: error instanceof Error ? error.message : String(error),
      ...keys(),
    };
  }

  async function tearDownAll(): Promise<void> {
    // A body cut short stops at its next cancellation point; teardown waits for that (within a
    // bound), so it runs once and finds everything the body made.
    const stopped = () =>
      Promise.race([
        body!.catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, options.abandonedBodyGraceMs ?? ABANDONED_BODY_GRACE_MS).unref()),
      ]);
    const tearDown = async () => {
      await scope.tearDown().catch((error: unknown) => void teardownProblems.push(errorText(error)));
      await clusterScope?.tearDown().catch((error: unknown) => void teardownProblems.push(errorText(error)));
    };
    if (body && !settled) await stopped();
    await tearDown();
    // A body still going past the bound is in a step that ignores cancellation: what it makes once
    // that step returns is undone by a second teardown.
    if (body && !settled) {
      await stopped();
      await tearDown();
    }
  }
}
