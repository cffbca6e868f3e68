import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  daemonConfigSatisfies,
  isEngineVersionRequirement,
  missingRequirements,
  type Capabilities,
} from "./capabilities.js";
import { runChild } from "./child-run.js";
import { engineGroups } from "./engine-sharing.js";
import { privateEnginePrerequisites } from "./engine/private-engine.js";
import type { ScenarioResult } from "./results.js";
import type { Scenario } from "./scenario.js";
import { inPool } from "./work-pool.js";
import { interruption, resultIdentity } from "./runner.js";

/** Scenarios that change the engine itself, or whose daemon.json the session's engine does not have: they need an engine of their own. */
export function needOwnEngine(scenarios: readonly Scenario[], capabilities: Capabilities): Scenario[] {
  return scenarios.filter(
    (s) => s.ownEngine === true || (s.daemon && !daemonConfigSatisfies(capabilities.daemonConfig, s.daemon)),
  );
}

const ENGINES_AT_ONCE = 3;

/** How a skip names the engine a group needed: its daemon.json, or (none) an engine of its own. */
const engineOf = (config: Readonly<Record<string, unknown>>): string =>
  Object.keys(config).length ? `engine with daemon.json ${JSON.stringify(config)}` : "an engine of its own";

/** A result for each scenario of a group that never reached its engine. */
const unrun = (scenarios: readonly Scenario[], status: "skipped" | "error", reason: string): ScenarioResult[] =>
  scenarios.map((s) => ({ ...resultIdentity(s, 1), status, durationMs: 0, evidence: [], reason }));

/**
 * Runs each group on a private engine started with its daemon.json, in a
 * `docknet run` child (one engine per process), on the same engine version as
 * the session's when that is a private one. The user's own engine is never
 * reconfigured.
 */
export async function runOnConfiguredEngines(options: {
  readonly scenarios: readonly Scenario[];
  /** Passed to each child: --concurrency, --timeout, --repeat, and --engine-version where it applies. */
  readonly runArgs: readonly string[];
  /** The "daemon-config-dropped" fault, where it applies: those scenarios get an engine started with {} (their broken setup). */
  readonly dropConfig?: (scenario: Scenario) => boolean;
  readonly signal?: AbortSignal;
  readonly onResult: (result: ScenarioResult) => void;
  /** Told how many containers each group's run started on its engine. */
  readonly onContainersStarted?: (count: number) => void;
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
  const dir = mkdtempSync(join(tmpdir(), "docknet-daemon-"));
  // The scenarios whose configuration is dropped would all get alike engines: one serves them all.
  const dropped = toRun.filter((s) => options.dropConfig?.(s) === true);
  const kept = toRun.filter((s) => !dropped.includes(s));
  const groups = [...engineGroups(kept), ...(dropped.length ? [{ config: {}, scenarios: dropped }] : [])];
  const byGroup: ScenarioResult[][] = [];
  const runGroup = async (index: number): Promise<void> => {
    const group = groups[index]!;
    let groupResults: ScenarioResult[];
    if (missing)
      groupResults = unrun(group.scenarios, "skipped", `${engineOf(group.config)} cannot be started: ${missing}`);
    else if (options.signal?.aborted)
      groupResults = unrun(group.scenarios, "skipped", `${interruption(options.signal)} before its engine started`);
    else {
      const file = join(dir, `daemon-${index}.json`);
      writeFileSync(file, JSON.stringify(group.config));
      const run = await runChild(
        [
          ...group.scenarios.map((s) => s.id),
          ...options.runArgs,
          "--daemon-config",
          file,
          "--engine-started-for-scenarios",
          ...(options.needsOutsideHost && !group.scenarios.some(options.needsOutsideHost) ? ["--no-outside-host"] : []),
        ],
        options.signal ? { signal: options.signal } : {},
      );
      if (run.report?.summary.containersStarted) options.onContainersStarted?.(run.report.summary.containersStarted);
      groupResults =
        run.report?.results.filter((r) => group.scenarios.some((s) => s.id === r.id)) ??
        unrun(group.scenarios, "error", `${engineOf(group.config)} did not run: ${run.lastLine}`);
    }
    for (const r of groupResults) options.onResult(r);
    byGroup[index] = groupResults;
  };
  try {
    // A few engines at once: each spends most of its start waiting on dockerd, not on the CPU.
    await inPool(
      groups.map((_, index) => index),
      ENGINES_AT_ONCE,
      runGroup,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [...skippedHere, ...byGroup.flat()];
}
