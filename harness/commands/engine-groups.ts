import { engineOf, unrun } from "../configured-engines.js";
import type { EngineGroupPlan, GroupReport } from "../engine-lanes.js";
import { EngineSlot } from "../engine/engine-slot.js";
import { errorText } from "../lab/docker-api.js";
import { interruption } from "../runner.js";
import type { Scenario } from "../scenario.js";
import type { ConformanceOptions, SessionOptions } from "../session.js";

/**
 * The lane side of runOnConfiguredEngines (`docknet run --engine-groups`, engine-lanes.ts): each
 * group it is given, in turn, on a private engine started with the group's daemon.json, all in
 * this one process, whose testcontainers reaches each engine through one slot. A group whose
 * engine does not start gets an error for each of its scenarios, and the lane goes on; once
 * interrupted, it starts no further engine.
 */
export async function runEngineGroups(options: {
  readonly groups: AsyncIterable<EngineGroupPlan>;
  readonly scenarios: readonly Scenario[];
  /** How each group's engine and lab are made, but for the engine and its daemon.json. */
  readonly session: Omit<SessionOptions, "engine" | "daemonConfig" | "engineSlot" | "withoutOutsideHost">;
  readonly conformance: Omit<ConformanceOptions, "scenarios" | "engineStartedForScenarios">;
  readonly signal: AbortSignal;
  /** Told when a group is taken up, and (onGroup) when its answer is ready. */
  readonly onGroupStart?: () => void;
  readonly onGroup: (report: GroupReport) => void;
}): Promise<void> {
  const { openSession, runConformance } = await import("../session.js");
  const slot = new EngineSlot();
  try {
    for await (const group of options.groups) {
      options.onGroupStart?.();
      const scenarios = options.scenarios.filter((s) => group.scenarioIds.includes(s.id));
      if (options.signal.aborted) {
        const why = `${interruption(options.signal)} before its engine started`;
        options.onGroup({ results: unrun(scenarios, "skipped", why), containersStarted: 0 });
        continue;
      }
      let session;
      try {
        session = await openSession({
          ...options.session,
          engine: "private",
          daemonConfig: { ...group.config },
          engineSlot: slot,
          ...(group.outsideHost
            ? {}
            : { withoutOutsideHost: "no outside host beside this engine: none of its scenarios needs one" }),
        });
      } catch (error) {
        const why = `${engineOf(group.config)} did not start: ${errorText(error)}`;
        process.stderr.write(`docknet: ${why}\n`);
        options.onGroup({ results: unrun(scenarios, "error", why), containersStarted: 0 });
        continue;
      }
      try {
        const report = await runConformance(session, {
          ...options.conformance,
          scenarios,
          engineStartedForScenarios: true,
          explain: true,
        });
        if (report.engineLost) process.stderr.write(`docknet: ${report.engineLost}\n`);
        options.onGroup({
          results: report.results,
          containersStarted: report.summary.containersStarted ?? 0,
          ...(report.explanations ? { explanations: report.explanations } : {}),
        });
      } finally {
        await session.close();
      }
    }
  } finally {
    slot.close();
  }
}
