import { hostname } from "node:os";

/** The labels on everything docknet creates on an engine: which run, which process, which scenario. */
export const RUN_LABEL = "io.docknet.run";
export const OWNER_LABEL = "io.docknet.owner";
export const SCENARIO_LABEL = "io.docknet.scenario";

/** The labels of what one run makes: the run, the owning process (host:pid), and the scenario if any. */
export function runLabels(runId: string, scenarioId?: string): Record<string, string> {
  return {
    [RUN_LABEL]: runId,
    [OWNER_LABEL]: `${hostname()}:${process.pid}`,
    ...(scenarioId ? { [SCENARIO_LABEL]: scenarioId } : {}),
  };
}

/** The name of something a scenario makes: prefixed with the run, so that nothing else is touched. */
export function resourceName(runId: string, scenarioId: string, short: string): string {
  return `dn-${runId}-${scenarioId.toLowerCase()}-${short}`;
}
