import {
  daemonConfigSatisfies,
  isEngineVersionRequirement,
  missingRequirements,
  type Capabilities,
} from "./capabilities.js";
import { EngineLane } from "./engine-lanes.js";
import { engineGroups } from "./engine-sharing.js";
import { privateEnginePrerequisites } from "./engine/private-engine.js";
import type { Explanation, ScenarioResult } from "./results.js";
import { runsOnCluster, type Scenario } from "./scenario.js";
import { inPool } from "./work-pool.js";
import { interruption, resultIdentity } from "./runner.js";

/**
 * Scenarios that change the engine itself, or whose daemon.json the session's engine does not have:
 * they need an engine of their own. So do those that must be alone on the engine when the session's
 * engine is docknet's own dockerd with no daemon.json: a lane's engine of the same version is its
 * equal, and there they run beside the others instead of before them, one after another.
 */
export function needOwnEngine(scenarios: readonly Scenario[], capabilities: Capabilities): Scenario[] {
  const plainPrivateDockerd =
    capabilities.engineKind === "private" &&
    capabilities.profile.family === "docker" &&
    !capabilities.rootless &&
    Object.keys(capabilities.daemonConfig ?? {}).length === 0;
  return scenarios.filter(
    (s) =>
      s.ownEngine === true ||
      (s.daemon && !daemonConfigSatisfies(capabilities.daemonConfig, s.daemon)) ||
      (plainPrivateDockerd && s.exclusive === true && !runsOnCluster(s)),
  );
}

/** Lanes, each running its engines one after another. */
const ENGINES_AT_ONCE = 3;

/** How a skip names the engine a group needed: its daemon.json, or (none) an engine of its own. */
export const engineOf = (config: Readonly<Record<string, unknown>>): string =>
  Object.keys(config).length ? `engine with daemon.json ${JSON.stringify(config)}` : "an engine of its own";

/** A result for each scenario of a group that never reached its engine. */
export const unrun = (scenarios: readonly Scenario[], status: "skipped" | "error", reason: string): ScenarioResult[] =>
  scenarios.map((s) => ({ ...resultIdentity(s, 1), status, durationMs: 0, evidence: [], reason }));

/**
 * Runs each group (engine-sharing.ts) on a private engine started with its
 * daemon.json, in lanes (engine-lanes.ts), on the same engine version as the
 * session's when that is a private one. The user's own engine is never
 * reconfigured.
 */
export async function runOnConfiguredEngines(options: {
  readonly scenarios: readonly Scenario[];
  /** Passed to each lane: --concurrency, --timeout, --repeat, and --engine-version where it applies. */
  readonly runArgs: readonly string[];
  /** The "daemon-config-dropped" fault, where it applies: those scenarios get an engine started with {} (their broken setup). */
  readonly dropConfig?: (scenario: Scenario) => boolean;
  readonly signal?: AbortSignal;
  readonly onResult: (result: ScenarioResult) => void;
  /** Told how many containers each group's run started on its engine. */
  readonly onContainersStarted?: (count: number) => void;
  /** Told the doctor's findings for a group's failed scenarios, from the audit of its own engine. */
  readonly onExplanations?: (found: Readonly<Record<string, readonly Explanation[]>>) => void;
  /**
   * The facts of an engine of the version the groups' engines will be: a scenario too new for it
   * skips here, before an engine is started for it (a daemon.json key an older dockerd does not
   * know would keep it from starting at all).
   */
  readonly sameVersionAs?: Capabilities;
  /**
   * Whether a scenario needs the outside host beside its engine; an engine whose scenarios all
   * do without starts with none. Absent: every engine gets one.
   */
  readonly needsOutsideHost?: (scenario: Scenario) => boolean;
  /** How long each scenario took last time on this engine version: the longest groups start first. */
  readonly durationHints?: ReadonlyMap<string, number>;
  /** Why no engine can be started for these scenarios at all (the session's engine is not dockerd): each skips saying so. */
  readonly unavailable?: string;
}): Promise<ScenarioResult[]> {
  if (options.scenarios.length === 0) return [];
  if (options.unavailable) {
    const skipped = unrun(options.scenarios, "skipped", options.unavailable);
    for (const r of skipped) options.onResult(r);
    return skipped;
  }
  const tooNew = (s: Scenario) =>
    options.sameVersionAs
      ? missingRequirements(s.requires.filter(isEngineVersionRequirement), options.sameVersionAs)
      : [];
  const skippedHere = options.scenarios
    .filter((s) => tooNew(s).length > 0)
    .map((s) => unrun([s], "skipped", tooNew(s).join("; "))[0]!);
  for (const r of skippedHere) options.onResult(r);
  const toRun = options.scenarios.filter((s) => tooNew(s).length === 0);
  if (toRun.length === 0) return skippedHere;
  const missing = await privateEnginePrerequisites();
  // The scenarios whose configuration is dropped would all get alike engines: one serves them all.
  const dropped = toRun.filter((s) => options.dropConfig?.(s) === true);
  const kept = toRun.filter((s) => !dropped.includes(s));
  const groups = [...engineGroups(kept), ...(dropped.length ? [{ config: {}, scenarios: dropped }] : [])];
  const byGroup: ScenarioResult[][] = [];
  const finish = (index: number, results: ScenarioResult[]) => {
    for (const r of results) options.onResult(r);
    byGroup[index] = results;
  };
  // Longest first, so that no lane is left with a long group at the end; unknown ones count as a few seconds.
  const expected = (index: number) =>
    groups[index]!.scenarios.reduce((sum, s) => sum + (options.durationHints?.get(s.id) ?? 3000), 0);
  const order = groups.map((_, index) => index).sort((a, b) => expected(b) - expected(a) || a - b);
  // A few lanes, each a process that runs the groups it is handed one after another: a group's
  // engine spends most of its start waiting on dockerd, and a process per engine would spend more
  // CPU loading Node and testcontainers than the engine's scenarios take.
  const lanes: Array<EngineLane | undefined> = [];
  const laneArgs = [...new Set(toRun.map((s) => s.id)), ...options.runArgs];
  const runGroup = async (index: number, worker: number): Promise<void> => {
    const group = groups[index]!;
    if (missing)
      return finish(
        index,
        unrun(group.scenarios, "skipped", `${engineOf(group.config)} cannot be started: ${missing}`),
      );
    if (options.signal?.aborted)
      return finish(
        index,
        unrun(group.scenarios, "skipped", `${interruption(options.signal)} before its engine started`),
      );
    const lane = lanes[worker]?.alive ? lanes[worker] : (lanes[worker] = new EngineLane(laneArgs, options.signal));
    const answer = await lane.run({
      config: group.config,
      scenarioIds: group.scenarios.map((s) => s.id),
      outsideHost: options.needsOutsideHost ? group.scenarios.some(options.needsOutsideHost) : true,
    });
    if ("failed" in answer)
      return finish(index, unrun(group.scenarios, "error", `${engineOf(group.config)} did not run: ${answer.failed}`));
    if (answer.containersStarted) options.onContainersStarted?.(answer.containersStarted);
    if (answer.explanations) options.onExplanations?.(answer.explanations);
    finish(
      index,
      answer.results.filter((r) => group.scenarios.some((s) => s.id === r.id)),
    );
  };
  try {
    await inPool(order, ENGINES_AT_ONCE, runGroup);
  } finally {
    await Promise.all(lanes.map((lane) => lane?.end()));
  }
  return [...skippedHere, ...byGroup.flat()];
}
